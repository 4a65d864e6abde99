import { type Kysely, sql } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import { createBudgetHolds } from '../budgets/budget-migration.ts';
import type { LedgerDialect } from './database.ts';

/**
 * The ledger's schema, one migration per change, applied in name order and
 * recorded in ledger_migration so each runs once per database. Never edit a
 * migration that has shipped: add the next one. Column types are ones both
 * databases understand (SQLite derives an affinity from any type name):
 * `bigint` for millisecond times, `double precision` for money, `integer` for
 * counts and durations, `text` for the rest.
 */
export function ledgerMigrations(dialect: LedgerDialect): Record<string, Migration> {
  return {
    '001_requests': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('requests')
          // The insertion order, for paging an export; the only column the two databases spell differently.
          .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (col) =>
            dialect === 'postgres' ? col.primaryKey() : col.primaryKey().autoIncrement(),
          )
          .addColumn('id', 'text', (col) => col.notNull())
          .addColumn('ts', 'bigint', (col) => col.notNull())
          .addColumn('day', 'text', (col) => col.notNull())
          .addColumn('api_key', 'text', (col) => col.notNull())
          .addColumn('procedure', 'text', (col) => col.notNull())
          .addColumn('surface', 'text', (col) => col.notNull())
          .addColumn('category', 'text')
          .addColumn('routing', 'text')
          .addColumn('provider', 'text')
          .addColumn('model', 'text')
          .addColumn('fallbacks', 'text', (col) => col.notNull().defaultTo('[]'))
          .addColumn('prompt_tokens', 'integer', (col) => col.notNull().defaultTo(0))
          .addColumn('completion_tokens', 'integer', (col) => col.notNull().defaultTo(0))
          .addColumn('tokens_source', 'text')
          .addColumn('cost_usd', 'double precision')
          .addColumn('cost_source', 'text')
          .addColumn('tokens_saved', 'integer', (col) => col.notNull().defaultTo(0))
          .addColumn('usd_saved', 'double precision', (col) => col.notNull().defaultTo(0))
          .addColumn('ttft_ms', 'integer')
          .addColumn('total_ms', 'integer', (col) => col.notNull())
          .addColumn('outcome', 'text', (col) => col.notNull())
          .addColumn('finish_reason', 'text')
          .execute();
        // Unique so that a batch re-sent after a lost acknowledgement inserts nothing twice (ON CONFLICT DO NOTHING).
        await db.schema.createIndex('requests_id').unique().on('requests').column('id').execute();
        // Every read filters by key first, then by time or by day.
        await db.schema.createIndex('requests_api_key_ts').on('requests').columns(['api_key', 'ts']).execute();
        await db.schema.createIndex('requests_api_key_day').on('requests').columns(['api_key', 'day']).execute();
      },
    },
    '002_budget_spend': {
      async up(db: Kysely<unknown>) {
        // Token counters are double precision too: a held estimate may be fractional, and
        // PostgreSQL refuses a fractional parameter added to a bigint.
        await db.schema
          .createTable('budget_spend')
          .addColumn('api_key', 'text', (col) => col.notNull())
          .addColumn('period', 'text', (col) => col.notNull())
          .addColumn('period_start', 'text', (col) => col.notNull())
          .addColumn('spent_usd', 'double precision', (col) => col.notNull().defaultTo(0))
          .addColumn('reserved_usd', 'double precision', (col) => col.notNull().defaultTo(0))
          .addColumn('spent_tokens', 'double precision', (col) => col.notNull().defaultTo(0))
          .addColumn('reserved_tokens', 'double precision', (col) => col.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('budget_spend_pk', ['api_key', 'period', 'period_start'])
          .execute();
      },
    },
    '003_requests_api_key_seq': {
      async up(db: Kysely<unknown>) {
        // The export pages through a key's rows by `seq > last ORDER BY seq`: without this index each page
        // sorted all of the key's rows again, which made an export quadratic in its length.
        await db.schema.createIndex('requests_api_key_seq').on('requests').columns(['api_key', 'seq']).execute();
      },
    },
    // Holds become one row per request in flight (budgets/budget-store.ts), so a repeated settle
    // counts once and a dead gateway's holds expire; budget_spend keeps only what was spent.
    '004_budget_holds': {
      up: (db: Kysely<unknown>) => createBudgetHolds(db),
    },
    // The response cache: which requests it answered, and what those answers cost when first made.
    '005_requests_cache': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('requests').addColumn('cache', 'text').execute();
        await db.schema
          .alterTable('requests')
          .addColumn('cache_saved_usd', 'double precision', (col) => col.notNull().defaultTo(0))
          .execute();
      },
    },
  };
}

export const LEDGER_MIGRATIONS = Object.keys(ledgerMigrations('sqlite'));

// Our own bookkeeping tables, not Kysely's default kysely_migration: the ledger may share a
// PostgreSQL database with another application that migrates with Kysely.
const MIGRATION_TABLE = 'ledger_migration';
const MIGRATION_LOCK_TABLE = 'ledger_migration_lock';

/** The ledger's Kysely Migrator; migrateLedger runs it, a test may step it to an older version. */
export async function ledgerMigrator<DB>(db: Kysely<DB>, dialect: LedgerDialect): Promise<Migrator> {
  return new Migrator({
    db,
    provider: { getMigrations: async () => ledgerMigrations(dialect) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    // Kysely looks for its tables in every schema unless told which: name the one DATABASE_URL's
    // search_path selects, or the ledger would take another schema's tables for its own.
    ...(dialect === 'postgres' ? { migrationTableSchema: await currentSchema(db) } : {}),
  });
}

async function currentSchema<DB>(db: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('ledger migrations could not run: the search_path names no schema that exists');
  return schema;
}

/**
 * Brings the database up to the newest schema and returns the migrations it
 * applied (none when it was current). Several gateways may start at once:
 * on PostgreSQL Kysely serialises them with an advisory lock.
 */
export async function migrateLedger<DB>(db: Kysely<DB>, dialect: LedgerDialect): Promise<string[]> {
  const migrator = await ledgerMigrator(db, dialect);
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error');
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      failed
        ? `ledger migration ${failed.migrationName} failed: ${message}`
        : `ledger migrations could not run: ${message}`,
      { cause: error },
    );
  }
  return results.map((result) => result.migrationName);
}

/** The migrations a database has applied, oldest first. */
export async function appliedLedgerMigrations<DB>(db: Kysely<DB>, dialect: LedgerDialect): Promise<string[]> {
  const migrations = await (await ledgerMigrator(db, dialect)).getMigrations();
  return migrations.filter((migration) => migration.executedAt !== undefined).map((migration) => migration.name);
}
