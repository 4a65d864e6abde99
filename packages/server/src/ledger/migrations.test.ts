import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerBackends, requestRow } from '../../test-utils/ledger-backends.ts';
import { closedPort } from '../../test-utils/replay-upstream.ts';
import { type LedgerDatabase, openLedgerDatabase, SQLITE_FILE } from './database.ts';
import { createLedger } from './index.ts';
import { appliedLedgerMigrations, LEDGER_MIGRATIONS, ledgerMigrator, migrateLedger } from './migrations.ts';
import { tableRowFromRequest } from './row-mapping.ts';
import { usageQuerySchema } from './usage-query.ts';

const opened: LedgerDatabase[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((database) => database.close()));
});

describe.each(ledgerBackends())('the ledger schema on $name', (backend) => {
  const open = async () => {
    const database = await openLedgerDatabase(await backend.fresh());
    opened.push(database);
    return database;
  };

  it('gives a new database every migration, in order, and a second run applies none', async () => {
    const { db, dialect } = await open();

    const first = await migrateLedger(db, dialect);
    const second = await migrateLedger(db, dialect);

    expect(first).toEqual([
      '001_requests',
      '002_budget_spend',
      '003_requests_api_key_seq',
      '004_budget_holds',
      '005_requests_cache',
    ]);
    expect(second).toEqual([]);
    expect(await appliedLedgerMigrations(db, dialect)).toEqual(LEDGER_MIGRATIONS);
  });

  it('applies only the migrations an older database has not had', async () => {
    const { db, dialect } = await open();
    await (await ledgerMigrator(db, dialect)).migrateTo('001_requests');

    const applied = await migrateLedger(db, dialect);

    expect(applied).toEqual(['002_budget_spend', '003_requests_api_key_seq', '004_budget_holds', '005_requests_cache']);
  });

  it('moves a database with the first budget counters to hold rows, keeping what was spent', async () => {
    const { db, dialect } = await open();
    await (await ledgerMigrator(db, dialect)).migrateTo('003_requests_api_key_seq');
    await sql`insert into budget_spend (api_key, period, period_start, spent_usd, reserved_usd, spent_tokens, reserved_tokens)
      values ('alice', 'day', '2026-12-07', 1.5, 0.25, 300, 40)`.execute(db);

    const applied = await migrateLedger(db, dialect);
    const spent = await db.selectFrom('budget_spend').selectAll().execute();
    const holds = await db.selectFrom('budget_holds').selectAll().execute();

    expect(applied).toEqual(['004_budget_holds', '005_requests_cache']);
    expect(spent).toEqual([
      { api_key: 'alice', period: 'day', period_start: '2026-12-07', spent_usd: 1.5, spent_tokens: 300 },
    ]);
    expect(holds).toEqual([]);
  });

  it('names the migration that failed', async () => {
    const { db, dialect } = await open();
    await sql`create table budget_spend (x integer)`.execute(db);

    await expect(migrateLedger(db, dialect)).rejects.toThrow(/^ledger migration 002_budget_spend failed: .*exist/);
  });

  it('stores a request id once, however often its row is inserted', async () => {
    const { db, dialect } = await open();
    await migrateLedger(db, dialect);
    const row = tableRowFromRequest(requestRow());

    for (let i = 0; i < 2; i += 1) {
      await db
        .insertInto('requests')
        .values(row)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }

    const stored = await db.selectFrom('requests').select('id').execute();
    expect(stored).toEqual([{ id: row.id }]);
  });

  it('reads times, counts and sums back as numbers', async () => {
    const { db, dialect } = await open();
    await migrateLedger(db, dialect);
    await db
      .insertInto('requests')
      .values(tableRowFromRequest(requestRow({ ts: 1_900_000_000_000 })))
      .execute();

    const row = await db
      .selectFrom('requests')
      .select(['seq', 'ts', sql<number>`count(*)`.as('n'), sql<number>`sum(ts)`.as('total')])
      .groupBy(['seq', 'ts'])
      .executeTakeFirstOrThrow();

    expect(row).toEqual({ seq: 1, ts: 1_900_000_000_000, n: 1, total: 1_900_000_000_000 });
  });
});

describe('opening the ledger', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tokenflow-ledger-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('keeps the SQLite history in DATA_DIR across a close and a reopen', async () => {
    const dataDir = join(await tempDir(), 'nested', 'data');
    const first = await createLedger({ dataDir });
    first.writer.add(requestRow({ key: 'dana' }));
    await first.close(1000);

    const second = await createLedger({ dataDir });
    second.writer.add(requestRow({ key: 'dana' }));
    await second.writer.flush();
    const report = await second.query('dana', usageQuerySchema.parse({}));
    await second.close(1000);

    expect(report.totals.requests).toBe(2);
    const file = new SQLite(join(dataDir, SQLITE_FILE), { readonly: true });
    expect(file.pragma('journal_mode', { simple: true })).toBe('wal');
    file.close();
  });

  it('fails at start-up naming the PostgreSQL server it cannot reach, never the password', async () => {
    const port = await closedPort();
    const started = Date.now();

    const opening = createLedger({ databaseUrl: `postgres://gw:s3cret-pw@127.0.0.1:${port}/ledger`, dataDir: '/x' });

    const error = await opening.then(
      () => new Error('opened'),
      (reason: Error) => reason,
    );
    expect(error.message).toMatch(
      new RegExp(`^DATABASE_URL: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/ledger: .*ECONNREFUSED`),
    );
    expect(error.message).not.toContain('s3cret');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a DATABASE_URL that is not a postgres:// URL without repeating it', async () => {
    await expect(createLedger({ databaseUrl: 'mysql://u:s3cret@db/x', dataDir: '/x' })).rejects.toThrow(
      /^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/, not mysql:\/\/$/,
    );
    await expect(createLedger({ databaseUrl: 's3cret', dataDir: '/x' })).rejects.toThrow(/^DATABASE_URL is not a URL/);
  });

  it('fails at start-up naming the SQLite file it cannot open', async () => {
    const notADir = join(await tempDir(), 'file');
    await writeFile(notADir, '');

    await expect(createLedger({ dataDir: notADir })).rejects.toThrow(
      `DATA_DIR: cannot open the SQLite ledger at ${join(notADir, SQLITE_FILE)}`,
    );
    expect(existsSync(join(notADir, SQLITE_FILE))).toBe(false);
  });
});
