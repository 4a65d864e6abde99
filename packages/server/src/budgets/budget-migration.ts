import type { Kysely } from 'kysely';

/**
 * The ledger's migration 004: one row per request in flight holding its
 * worst-case cost (budget_holds), in place of the running sums of holds that
 * budget_spend kept (its reserved_* columns, dropped). Holds that were in
 * those sums belonged to requests of the gateway being upgraded, which has
 * stopped: nothing is carried over.
 */
export async function createBudgetHolds(db: Kysely<unknown>) {
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
  await db.schema.alterTable('budget_spend').dropColumn('reserved_usd').execute();
  await db.schema.alterTable('budget_spend').dropColumn('reserved_tokens').execute();
}
