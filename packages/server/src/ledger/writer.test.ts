import { type KyselyPlugin, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  capturedLogger,
  eventually,
  type LedgerTarget,
  ledgerBackends,
  requestRow,
} from '../../test-utils/ledger-backends.ts';
import { type LedgerDatabase, openLedgerDatabase } from './database.ts';
import { migrateLedger } from './migrations.ts';
import type { RequestRow } from './request-row.ts';
import { LedgerWriter, type LedgerWriterOptions } from './writer.ts';

/** Counts the INSERTs that reach the database; `failAfterNext` loses the acknowledgement of the next one. */
function insertProbe() {
  const probe = { inserts: 0, failAfterNext: false };
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      if (args.node.kind === 'InsertQueryNode') probe.inserts += 1;
      return args.node;
    },
    transformResult: async (args) => {
      if (probe.failAfterNext) {
        probe.failAfterNext = false;
        throw new Error('connection lost before the reply');
      }
      return args.result;
    },
  };
  return { probe, plugin };
}

const opened: LedgerDatabase[] = [];
const writers: LedgerWriter[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((writer) => writer.close(0)));
  await Promise.all(opened.splice(0).map((database) => database.close()));
});

// Fast retries and a timer that never fires on its own unless a test asks for it.
const QUIET: LedgerWriterOptions = { flushIntervalMs: 60_000, retryInitialMs: 20, retryMaxMs: 100 };

describe.each(ledgerBackends())('the ledger writer on $name', (backend) => {
  const setUp = async (options: LedgerWriterOptions = {}) => {
    const target = await backend.fresh();
    const database = await openLedgerDatabase(target);
    opened.push(database);
    await migrateLedger(database.db, database.dialect);
    const { probe, plugin } = insertProbe();
    const log = capturedLogger();
    const writer = new LedgerWriter(database.db.withPlugin(plugin), { ...QUIET, logger: log.logger, ...options });
    writers.push(writer);
    const stored = async () => {
      const rows = await database.db.selectFrom('requests').select('id').orderBy('seq').execute();
      return rows.map((row) => row.id);
    };
    return { target, database, writer, probe, log, stored };
  };
  const addAll = (writer: LedgerWriter, rows: RequestRow[]) => {
    for (const row of rows) writer.add(row);
  };
  const ids = (rows: RequestRow[]) => rows.map((row) => row.id);
  const many = (n: number) => Array.from({ length: n }, () => requestRow());

  it('writes many added rows in a few multi-row INSERTs', async () => {
    const { writer, probe, stored } = await setUp({ batchSize: 100 });
    const rows = many(250);

    addAll(writer, rows);
    await writer.flush();

    expect(probe.inserts).toBe(3);
    expect(await stored()).toEqual(ids(rows));
    expect(writer.stats()).toEqual({ buffered: 0, written: 250, dropped: 0, failedFlushes: 0 });
  });

  it('queues on add() and writes on the timer, without being asked', async () => {
    const { writer, stored } = await setUp({ flushIntervalMs: 30 });
    const rows = many(3);

    addAll(writer, rows);

    expect(writer.stats()).toMatchObject({ buffered: 3, written: 0 });
    await eventually(() => writer.stats().written === 3);
    expect(await stored()).toEqual(ids(rows));
  });

  it('starts writing as soon as a full batch is buffered', async () => {
    const { writer } = await setUp({ batchSize: 10 });

    addAll(writer, many(10));

    await eventually(() => writer.stats().written === 10, 1_000);
  });

  it('makes rows readable as soon as flush() resolves', async () => {
    const { writer, stored } = await setUp();
    const row = requestRow();

    writer.add(row);
    await writer.flush();

    expect(await stored()).toEqual([row.id]);
  });

  it('keeps the newest rows when the buffer is full, counting and reporting the dropped ones', async () => {
    const drops: number[] = [];
    const { writer, log, stored } = await setUp({
      maxBufferedRows: 5,
      onDrop: (rows) => {
        drops.push(rows);
        throw new Error('a broken metric');
      },
    });
    const rows = many(8);

    addAll(writer, rows);
    await writer.flush();
    await writer.close(1000);

    expect(await stored()).toEqual(ids(rows.slice(3)));
    expect(writer.stats()).toMatchObject({ dropped: 3, written: 5 });
    expect(drops.reduce((a, b) => a + b, 0)).toBe(3);
    const dropLines = log.lines.filter((line) => line.msg.startsWith('ledger: dropped'));
    // Rate-limited: the first drop at once, the rest summed up (here at close), never one line per row.
    expect(dropLines.map((line) => line.dropped)).toEqual([1, 2]);
  });

  it('keeps rows through an outage and writes them once the database is back, add() never waiting', async () => {
    const { target, writer, log, stored } = await setUp({ flushIntervalMs: 20 });
    const before = requestRow();
    writer.add(before);
    await writer.flush();
    const endOutage = await backend.outage(target);
    const during = many(20);

    const started = performance.now();
    addAll(writer, during);
    const addMs = performance.now() - started;
    await eventually(() => writer.stats().failedFlushes >= 2);
    const blocked = await writer.flush({ timeoutMs: 50 }).then(
      () => 'flushed',
      (error: Error) => error.message,
    );
    await endOutage();
    await eventually(() => writer.stats().buffered === 0);

    // add() is synchronous: 20 adds are far below any database timeout, outage or not.
    expect(addMs).toBeLessThan(1_000);
    expect(blocked).toMatch(/^ledger: 20 rows still unwritten after 50 ms: the database is unavailable \(.+\)$/);
    expect(await stored()).toEqual(ids([before, ...during]));
    expect(writer.stats()).toMatchObject({ written: 21, dropped: 0 });
    const messages = log.messages();
    expect(messages.filter((msg) => msg.includes('cannot write to the database'))).toHaveLength(1);
    expect(messages.filter((msg) => msg.includes('takes writes again'))).toHaveLength(1);
  });

  it('stores a batch once when its acknowledgement was lost and it is sent again', async () => {
    const { writer, probe, stored } = await setUp({ flushIntervalMs: 20 });
    const rows = many(5);
    probe.failAfterNext = true;

    addAll(writer, rows);
    await eventually(() => writer.stats().written === 5);

    expect(probe.inserts).toBe(2);
    expect(writer.stats().failedFlushes).toBe(1);
    expect(await stored()).toEqual(ids(rows));
  });

  it('drops a row the database refuses and writes the rest of its batch', async () => {
    const { database, writer, stored, log } = await setUp();
    await (backend.name === 'postgres'
      ? sql`alter table requests add constraint no_poison check (outcome <> 'POISON')`
      : sql`create trigger no_poison before insert on requests when new.outcome = 'POISON'
              begin select raise(abort, 'poison'); end`
    ).execute(database.db);
    const rows = [requestRow(), requestRow({ outcome: 'POISON' }), requestRow()];

    addAll(writer, rows);
    await writer.flush();

    expect(await stored()).toEqual(ids([rows[0], rows[2]] as RequestRow[]));
    expect(writer.stats()).toMatchObject({ written: 2, dropped: 1, buffered: 0 });
    expect(log.lines.find((line) => line.msg === 'ledger: request row refused')?.requestId).toBe(rows[1]?.id);
  });

  it('writes what is buffered on close(), within the grace time', async () => {
    const { writer, stored } = await setUp();
    const rows = many(30);

    addAll(writer, rows);
    const result = await writer.close(2_000);

    expect(result).toEqual({ unwritten: 0 });
    expect(await stored()).toEqual(ids(rows));
  });

  it('reports on close() how many rows it could not write when the database is gone', async () => {
    const { target, writer, log, stored } = await setUp();
    await writer.flush();
    const endOutage = await backend.outage(target);
    addAll(writer, many(5));

    const started = Date.now();
    const result = await writer.close(300);
    const tookMs = Date.now() - started;
    await endOutage();

    expect(result).toEqual({ unwritten: 5 });
    // The grace, plus at most a second for the insert in flight: never the database's own timeouts.
    expect(tookMs).toBeLessThan(5_000);
    expect(log.messages()).toContain('ledger: 5 request rows could not be written before shutdown');
    expect(await stored()).toEqual([]);
  });

  it('counts a row added after close() as dropped', async () => {
    const { writer } = await setUp();
    await writer.close(0);

    writer.add(requestRow());

    expect(writer.stats()).toMatchObject({ dropped: 1, buffered: 0 });
  });
});

describe('opening the ledger while its database is down', () => {
  it('is refused with a reason rather than silently writing nowhere', async () => {
    const missing: LedgerTarget = { databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: '/x' };

    await expect(openLedgerDatabase(missing)).rejects.toThrow(/^DATABASE_URL: cannot connect to PostgreSQL at 127/);
  });
});
