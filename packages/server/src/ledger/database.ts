import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { reasonOf } from './db-errors.ts';
import type { LedgerTables } from './tables.ts';
import { openSqliteThreads, type SqliteThreads, WorkerSqliteDialect } from './worker-dialect.ts';

export type LedgerDialect = 'sqlite' | 'postgres';
export type LedgerLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface LedgerDatabase {
  db: Kysely<LedgerTables>;
  dialect: LedgerDialect;
  /** Where the data lives, for logs: the SQLite file, or PostgreSQL's host:port/database (never the password). */
  location: string;
  close(): Promise<void>;
}

export interface OpenLedgerDatabaseOptions {
  /** postgres://… : use PostgreSQL. Unset: SQLite in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  logger?: LedgerLogger | undefined;
}

export const SQLITE_FILE = 'ledger.sqlite';

/**
 * Opens the ledger's database and proves it answers, so that a wrong or
 * unreachable DATABASE_URL stops the gateway at start-up with a message
 * naming the server, rather than leaving a gateway that silently records
 * nothing. Outages after start-up are the writer's business.
 */
export async function openLedgerDatabase(options: OpenLedgerDatabaseOptions): Promise<LedgerDatabase> {
  const logger = options.logger ?? pino({ level: 'silent' });
  return options.databaseUrl ? openPostgres(options.databaseUrl, logger) : openSqlite(options.dataDir);
}

async function openSqlite(dataDir: string): Promise<LedgerDatabase> {
  const file = join(dataDir, SQLITE_FILE);
  let threads: SqliteThreads;
  try {
    mkdirSync(dataDir, { recursive: true });
    // Off the event loop: a report over 100k rows or a busy wait must never delay a stream.
    threads = await openSqliteThreads(file);
  } catch (error) {
    throw new Error(`DATA_DIR: cannot open the SQLite ledger at ${file}: ${reasonOf(error)}`, { cause: error });
  }
  const db = new Kysely<LedgerTables>({ dialect: new WorkerSqliteDialect(threads) });
  return { db, dialect: 'sqlite', location: file, close: () => db.destroy() };
}

// pg hands int8 (COUNT, SUM of integers, the bigint columns) and numeric (SUM of
// bigint) back as strings to avoid precision loss; ledger values stay far below 2^53.
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

async function openPostgres(databaseUrl: string, logger: LedgerLogger): Promise<LedgerDatabase> {
  const location = describePostgresUrl(databaseUrl);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    // The writer sends one batch at a time and a usage report one query at a time; budget holds
    // take one each. Queued requests count against connectionTimeoutMillis too, so leave room.
    max: 10,
    connectionTimeoutMillis: 2_000,
    // A server that stops answering must fail the query, so the writer can buffer and retry.
    query_timeout: 30_000,
    idleTimeoutMillis: 30_000,
    application_name: 'tokenflow-ledger',
    types,
  });
  // An idle client whose server went away emits 'error' on the pool; unhandled, that would end the process.
  pool.on('error', (error) => logger.warn({ err: { message: error.message } }, `ledger: PostgreSQL connection lost`));
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(`DATABASE_URL: cannot connect to PostgreSQL at ${location}: ${reasonOf(error)}`, {
      cause: error,
    });
  }
  const db = new Kysely<LedgerTables>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', location, close: () => db.destroy() };
}

/** host:port/database of a postgres:// URL, without the user's password; DATABASE_URL itself is never shown. */
export function describePostgresUrl(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('DATABASE_URL is not a URL: expected postgres://user:password@host:port/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`DATABASE_URL must start with postgres:// or postgresql://, not ${url.protocol}//`);
  }
  return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
}
