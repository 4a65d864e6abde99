import type { Kysely } from 'kysely';

/**
 * The budget tables (the ledger's migration 002): what each key spent per
 * period, and one row per request in flight holding its worst-case cost.
 * Money and tokens are double precision: a held estimate may be fractional,
 * and PostgreSQL refuses a fractional parameter added to a bigint.
 */
export async function createBudgetTables(db: Kysely<unknown>) {
  await db.schema
    .createTable('budget_spend')
    .addColumn('api_key', 'text', (col) => col.notNull())
    .addColumn('period', 'text', (col) => col.notNull())
    .addColumn('period_start', 'text', (col) => col.notNull())
    .addColumn('spent_usd', 'double precision', (col) => col.notNull().defaultTo(0))
    .addColumn('spent_tokens', 'double precision', (col) => col.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('budget_spend_pk', ['api_key', 'period', 'period_start'])
    .execute();
  await db.schema
    .createTable('budget_holds')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('api_key', 'text', (col) => col.notNull())
    .addColumn('day', 'text', (col) => col.notNull())
    .addColumn('month', 'text', (col) => col.notNull())
    .addColumn('usd', 'double precision', (col) => col.notNull())
    .addColumn('tokens', 'double precision', (col) => col.notNull())
    .addColumn('expires_at', 'double precision', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('budget_holds_key_day').on('budget_holds').columns(['api_key', 'day']).execute();
  await db.schema.createIndex('budget_holds_key_month').on('budget_holds').columns(['api_key', 'month']).execute();
}
