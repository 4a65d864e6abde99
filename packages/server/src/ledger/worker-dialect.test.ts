import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { requestRow } from '../../test-utils/ledger-backends.ts';
import { type LedgerDatabase, openLedgerDatabase } from './database.ts';
import { isRowError } from './db-errors.ts';
import { migrateLedger } from './migrations.ts';
import { queryUsage } from './queries.ts';
import { tableRowFromRequest } from './row-mapping.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openSqlite(): Promise<LedgerDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tokenflow-worker-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const database = await openLedgerDatabase({ dataDir });
  cleanups.push(() => database.close());
  await migrateLedger(database.db, database.dialect);
  return database;
}

/** `count` rows for `key`, generated inside SQLite in one statement (seconds faster than inserting them). */
async function fill({ db }: LedgerDatabase, key: string, count: number) {
  await sql`
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count})
    insert into requests (id, ts, day, api_key, procedure, surface, provider, model, prompt_tokens,
                          completion_tokens, cost_usd, ttft_ms, total_ms, outcome)
    select 'row-' || i, 1772366400000 + i * 1000, '2026-03-0' || (1 + i % 7), ${key}, 'generate', 'ws',
           'openai', 'model-' || (i % 13), 100 + i % 50, 20 + i % 30, 0.001, 100 + i % 900, 500 + i % 4000,
           case when i % 17 = 0 then 'UPSTREAM_ERROR' else 'OK' end
    from n`.execute(db);
}

/** The longest the event loop went without running a 5 ms interval while `work` ran. */
async function maxLoopGap(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(maxGap, performance.now() - last);
}

describe('SQLite in a worker thread', () => {
  it('keeps the event loop turning while a report over 50,000 rows runs', async () => {
    const database = await openSqlite();
    await fill(database, 'alice', 50_000);

    let reportMs = 0;
    const gap = await maxLoopGap(async () => {
      const started = performance.now();
      // Three rounds so the report runs long enough to matter (each is ~0.5-1 s of SQLite work).
      for (let round = 0; round < 3; round++) {
        const report = await queryUsage(database.db, 'alice', { groupBy: ['day', 'model'] });
        expect(report.totals.requests).toBe(50_000);
      }
      reportMs = performance.now() - started;
    });

    // On the event loop (better-sqlite3 through Kysely's SqliteDialect) this report blocked it for
    // its whole length; in the worker, the loop only pays for moving the results across.
    console.info(`report: ${reportMs.toFixed(0)} ms, longest event-loop gap: ${gap.toFixed(0)} ms`);
    expect(gap).toBeLessThan(300);
    expect(gap).toBeLessThan(reportMs / 2);
  });

  it("rejects a failed statement with SQLite's message and code", async () => {
    const { db } = await openSqlite();
    const row = tableRowFromRequest(requestRow());
    await db.insertInto('requests').values(row).execute();

    const syntax = await sql`selec 1`.execute(db).catch((error: unknown) => error);
    const duplicate = await db
      .insertInto('requests')
      .values({ ...row, seq: undefined })
      .execute()
      .catch((error: unknown) => error);

    expect(syntax).toBeInstanceOf(Error);
    expect(syntax).toMatchObject({ message: expect.stringMatching(/syntax error/), code: 'SQLITE_ERROR' });
    expect(duplicate).toMatchObject({ message: expect.stringMatching(/UNIQUE/), code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(isRowError(duplicate)).toBe(true);
  });

  it('rolls a failed transaction back, and keeps writes made meanwhile out of it', async () => {
    const { db } = await openSqlite();
    const inside = tableRowFromRequest(requestRow());
    const outside = tableRowFromRequest(requestRow());
    let outsideWrite: Promise<unknown> | undefined;

    const failed = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('requests').values(inside).execute();
        // Started while the transaction holds the writer: it must wait, not join the transaction.
        outsideWrite = db.insertInto('requests').values(outside).execute();
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('changed my mind');
      })
      .catch((error: Error) => error.message);

    expect(await failed).toBe('changed my mind');
    await outsideWrite;
    const ids = (await db.selectFrom('requests').select('id').execute()).map((found) => found.id);
    expect(ids).toEqual([outside.id]);
  });

  it('commits a transaction that reads its own writes', async () => {
    const { db } = await openSqlite();
    const row = tableRowFromRequest(requestRow());

    const seen = await db.transaction().execute(async (trx) => {
      await trx.insertInto('requests').values(row).execute();
      return trx.selectFrom('requests').select('id').execute();
    });

    expect(seen).toEqual([{ id: row.id }]);
    expect(await db.selectFrom('requests').select('id').execute()).toEqual([{ id: row.id }]);
  });

  it('refuses .stream() with a message that says so', async () => {
    const { db } = await openSqlite();

    const streaming = async () => {
      for await (const _ of db.selectFrom('requests').selectAll().stream()) break;
    };

    await expect(streaming()).rejects.toThrow(/does not support \.stream\(\)/);
  });

  it('closes the database in its thread on close(), which folds the WAL back into the file', async () => {
    const database = await openSqlite();
    await database.db.insertInto('requests').values(tableRowFromRequest(requestRow())).execute();
    expect(existsSync(`${database.location}-wal`)).toBe(true);

    await database.close();

    expect(existsSync(`${database.location}-wal`)).toBe(false);
    await expect(database.db.selectFrom('requests').selectAll().execute()).rejects.toThrow(/destroyed/);
  });
});
