import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  createLedger,
  type Ledger,
  openLedgerDatabase,
  type RequestRow,
  utcDay,
} from '../../packages/server/src/ledger/index.ts';
import { temporaryDataDir } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';

export type LedgerBackend = 'sqlite' | 'postgres';

export interface LedgerWriterOptions {
  /** Rows added as fast as the loop allows, then waited for until written. */
  rows: number;
  /** Flushes timed per batch size. */
  batches: Array<{ rows: number; repeats: number }>;
  /** add() calls timed, in runs of 1,000. */
  adds: number;
}

export interface LedgerWriterRow {
  backend: LedgerBackend;
  rows: number;
  /** From the first add() until flush() says every row is written. */
  rowsPerSecond: number;
  written: number;
  dropped: number;
  /** The most rows waiting at once during that run. */
  peakBuffered: number;
  /**
   * How late the bench's event loop ran during that run: better-sqlite3 is
   * synchronous, so an INSERT holds up everything else the gateway's loop does.
   */
  eventLoopDelayMs: { p99: number; max: number };
  /** One flush() of a batch of this many rows (the SQL's construction and the INSERT), ms. */
  batches: Array<{ rows: number; ms: Summary }>;
  /** One add(), ns: the mean over each run of 1,000 calls, the writer draining between runs. */
  addNs: Summary;
}

const startedAt = Date.now();
let made = 0;

/** A generate stream's row as the gateway writes it (ws surface, provider-reported usage). */
function requestRow(): RequestRow {
  const ts = startedAt + made++;
  return {
    id: randomUUID(),
    ts,
    day: utcDay(ts),
    key: 'anonymous',
    procedure: 'generate',
    surface: 'ws',
    category: null,
    routing: null,
    provider: 'bench',
    model: 'bench',
    fallbacks: [],
    promptTokens: 10,
    completionTokens: 50,
    tokensSource: 'provider',
    costUsd: 0.000031,
    costSource: 'catalog',
    tokensSaved: 0,
    usdSaved: 0,
    cache: null,
    cacheSavedUsd: 0,
    ttftMs: 4,
    totalMs: 531,
    outcome: 'OK',
    finishReason: 'stop',
  };
}

const rowsOf = (n: number) => Array.from({ length: n }, requestRow);

/**
 * A PostgreSQL schema of its own in the harness's database, as a URL whose
 * connections use it: each run starts from an empty, freshly migrated table.
 */
export async function postgresSchema(databaseUrl: string, name: string): Promise<string> {
  const admin = await openLedgerDatabase({ databaseUrl, dataDir: '' });
  try {
    await admin.db.schema.createSchema(name).execute();
  } finally {
    await admin.close();
  }
  return `${databaseUrl}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
}

/** Adds `rows` 1,000 per turn of the event loop (as requests would, between I/O) and waits until all are written. */
async function throughput(ledger: Ledger, rows: RequestRow[]) {
  const { writer } = ledger;
  const before = writer.stats();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let peakBuffered = 0;
  delay.enable();
  const started = performance.now();
  for (let i = 0; i < rows.length; i += 1000) {
    for (const row of rows.slice(i, i + 1000)) writer.add(row);
    peakBuffered = Math.max(peakBuffered, writer.stats().buffered);
    await nextTurn();
  }
  await writer.flush({ timeoutMs: 300_000 });
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  const after = writer.stats();
  return {
    rowsPerSecond: round(rows.length / seconds, 0),
    written: after.written - before.written,
    dropped: after.dropped - before.dropped,
    peakBuffered,
    eventLoopDelayMs: { p99: round(delay.percentile(99) / 1e6, 1), max: round(delay.max / 1e6, 1) },
  };
}

/** Times flush() of `size` rows just added, `repeats` times. */
async function batchLatency(ledger: Ledger, size: number, repeats: number): Promise<Summary> {
  const samples: number[] = [];
  for (let r = 0; r < repeats; r += 1) {
    await ledger.writer.flush({ timeoutMs: 30_000 }); // nothing left from before
    for (const row of rowsOf(size)) ledger.writer.add(row);
    const started = performance.now();
    await ledger.writer.flush({ timeoutMs: 30_000 });
    samples.push(round(performance.now() - started, 3));
  }
  return summarize(samples);
}

/** The mean cost of one add() over runs of 1,000 calls (rows built beforehand), letting the writer drain between runs. */
async function addCost(ledger: Ledger, adds: number): Promise<Summary> {
  const rows = rowsOf(adds);
  const perRun: number[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const run = rows.slice(i, i + 1000);
    const started = process.hrtime.bigint();
    for (const row of run) ledger.writer.add(row);
    perRun.push(round(Number(process.hrtime.bigint() - started) / run.length, 0));
    await nextTurn();
  }
  await ledger.writer.flush({ timeoutMs: 300_000 });
  return summarize(perRun);
}

/**
 * The ledger's writer on its own, in this process, with the gateway's
 * defaults (batches of 500, a 250 ms timer): throughput, one batch's flush
 * and add()'s cost, against SQLite (WAL, in a temporary directory) and
 * PostgreSQL (`databaseUrl`, when given).
 */
export async function ledgerWriter(
  options: LedgerWriterOptions,
  databaseUrl: string | undefined,
): Promise<LedgerWriterRow[]> {
  const backends: LedgerBackend[] = databaseUrl ? ['sqlite', 'postgres'] : ['sqlite'];
  const results: LedgerWriterRow[] = [];
  for (const backend of backends) {
    const dataDir = temporaryDataDir();
    const ledger = await createLedger({
      dataDir: dataDir.path,
      databaseUrl: backend === 'postgres' && databaseUrl ? await postgresSchema(databaseUrl, 'writer') : undefined,
      // Every row of the throughput run must fit: the bound is what an outage keeps, not the subject here.
      maxBufferedRows: options.rows,
    });
    try {
      await throughput(ledger, rowsOf(5_000)); // warm-up: JIT, the connection, the table's first pages
      const run = await throughput(ledger, rowsOf(options.rows));
      const batches = [];
      for (const { rows, repeats } of options.batches) {
        batches.push({ rows, ms: await batchLatency(ledger, rows, repeats) });
      }
      const addNs = await addCost(ledger, options.adds);
      results.push({ backend, rows: options.rows, ...run, batches, addNs });
      process.stderr.write(`  ledger writer: ${backend} done\n`);
    } finally {
      await ledger.close();
      dataDir.remove();
    }
  }
  return results;
}
