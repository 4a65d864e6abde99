import type { Kysely } from 'kysely';
import { type LedgerDialect, type OpenLedgerDatabaseOptions, openLedgerDatabase } from './database.ts';
import { migrateLedger } from './migrations.ts';
import { exportUsageRows, queryUsage } from './queries.ts';
import type { RequestRow } from './request-row.ts';
import type { LedgerTables } from './tables.ts';
import type { UsageExport, UsageQuery, UsageReport } from './usage-query.ts';
import { LedgerWriter, type LedgerWriterOptions } from './writer.ts';

export { toCsvLines } from './csv.ts';
export { describePostgresUrl, type LedgerDialect, type LedgerLogger, openLedgerDatabase } from './database.ts';
export { LEDGER_MIGRATIONS, migrateLedger } from './migrations.ts';
export { exportUsageRows, queryUsage } from './queries.ts';
export { type RequestRow, utcDay } from './request-row.ts';
export type { LedgerTables } from './tables.ts';
export { LedgerWriter, type LedgerWriterOptions, type LedgerWriterStats } from './writer.ts';

export interface CreateLedgerOptions extends OpenLedgerDatabaseOptions, LedgerWriterOptions {}

/** The request log: its database, the writer that fills it and the reads the usage procedures make. */
export interface Ledger {
  db: Kysely<LedgerTables>;
  dialect: LedgerDialect;
  writer: LedgerWriter;
  /** `key`'s report; always only `key`'s rows, whatever `query.key` says. */
  query(key: string, query: UsageQuery): Promise<Omit<UsageReport, 'budgets'>>;
  export(key: string, query: UsageExport): AsyncIterable<RequestRow>;
  /** Writes what is buffered within `graceMs`, closes the database and says how many rows were not written. */
  close(graceMs?: number): Promise<{ unwritten: number }>;
}

/**
 * Opens the database (SQLite in `dataDir`, or PostgreSQL at `databaseUrl`),
 * migrates it and starts the writer. Rejects with a message naming the
 * database when it cannot be reached or migrated: a gateway that cannot keep
 * its request log should not start, rather than run without one. Outages
 * after this point only delay rows (see LedgerWriter).
 */
export async function createLedger(options: CreateLedgerOptions): Promise<Ledger> {
  const database = await openLedgerDatabase(options);
  try {
    const applied = await migrateLedger(database.db, database.dialect);
    options.logger?.info(
      { dialect: database.dialect, location: database.location, migrationsApplied: applied },
      'ledger: database open',
    );
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  const { db, dialect } = database;
  const writer = new LedgerWriter(db, options);
  return {
    db,
    dialect,
    writer,
    query: (key, query) => queryUsage(db, key, query),
    export: (key, query) => exportUsageRows(db, key, query),
    async close(graceMs) {
      const result = await writer.close(graceMs);
      await database.close();
      return result;
    },
  };
}
