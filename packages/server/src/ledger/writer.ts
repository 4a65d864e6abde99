import { type Kysely, SqliteAdapter } from 'kysely';
import pino from 'pino';
import type { LedgerLogger } from './database.ts';
import { isRowError, reasonOf } from './db-errors.ts';
import { DroppedRows } from './dropped-rows.ts';
import type { RequestRow } from './request-row.ts';
import { INSERTED_COLUMNS, tableRowFromRequest } from './row-mapping.ts';
import { RowQueue } from './row-queue.ts';
import type { LedgerTables } from './tables.ts';

export interface LedgerWriterOptions {
  logger?: LedgerLogger | undefined;
  /** Rows per INSERT, and how many buffered rows start a write before the timer does: 100 on SQLite, 500 on PostgreSQL. */
  batchSize?: number;
  flushIntervalMs?: number;
  /** Rows waiting beyond this push the oldest out: memory stays bounded through a long outage. */
  maxBufferedRows?: number;
  /** The wait before the first retry after a failed write, doubling up to retryMaxMs. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Called with the number of rows dropped (buffer full, refused by the database, added after close). */
  onDrop?: ((rows: number) => void) | undefined;
}

export interface LedgerWriterStats {
  /** Waiting to be written, the batch being written included. */
  buffered: number;
  written: number;
  dropped: number;
  /** Write attempts that failed (each is retried). */
  failedFlushes: number;
}

// SQLite binds at most 32 766 parameters per statement, PostgreSQL 65 535.
const MAX_ROWS_PER_INSERT = Math.floor(32_766 / INSERTED_COLUMNS);

/**
 * SQLite has one writer: a budget hold waits for the batch being inserted, so its batches stay
 * small (100 rows take a few ms). PostgreSQL writes on its own connection and keeps large batches.
 */
function defaultBatchSize(db: Kysely<LedgerTables>): number {
  return db.getExecutor().adapter instanceof SqliteAdapter ? 100 : 500;
}

interface Entry {
  /** The order of add(): what flush() waits for. */
  n: number;
  row: RequestRow;
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Writes request rows in batches, away from the request path: add() only
 * appends to a bounded in-memory queue. A failed batch goes back to the front
 * and is retried with backoff, so a slow or absent database delays rows, not
 * requests. Inserts ignore ids already stored, which makes a retry of a batch
 * whose acknowledgement was lost harmless.
 */
export class LedgerWriter {
  private readonly logger: LedgerLogger;
  private readonly settings: Required<Omit<LedgerWriterOptions, 'logger' | 'onDrop'>>;
  private readonly drops: DroppedRows;

  private readonly queue = new RowQueue<Entry>();
  private inFlight: Entry[] = [];
  private nextN = 0;
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private kickQueued = false;
  private closing: Promise<{ unwritten: number }> | undefined;

  /** 0 while the database takes writes; the wait before the next attempt during an outage. */
  private retryDelay = 0;
  private outageSince: number | null = null;
  private lastError: unknown;

  private written = 0;
  private failedFlushes = 0;

  constructor(
    private readonly db: Kysely<LedgerTables>,
    options: LedgerWriterOptions = {},
  ) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    const { batchSize = defaultBatchSize(db), flushIntervalMs = 250, maxBufferedRows = 50_000 } = options;
    const { retryInitialMs = 250, retryMaxMs = 5_000 } = options;
    this.settings = {
      batchSize: Math.max(1, Math.min(batchSize, MAX_ROWS_PER_INSERT)),
      flushIntervalMs,
      maxBufferedRows: Math.max(1, maxBufferedRows),
      retryInitialMs,
      retryMaxMs,
    };
    this.drops = new DroppedRows(this.logger, options.onDrop, { maxBufferedRows });
  }

  /** Queues a row. Synchronous and never throws: it runs on the request path. */
  add(row: RequestRow): void {
    try {
      if (this.closing) {
        this.noteDropped(1, 'the ledger is closed');
        return;
      }
      this.queue.push({ n: this.nextN++, row });
      if (this.queue.length > this.settings.maxBufferedRows) {
        this.noteDropped(this.queue.drop(this.queue.length - this.settings.maxBufferedRows), 'the buffer is full');
      }
      if (this.queue.length >= this.settings.batchSize && this.retryDelay === 0 && !this.kickQueued) {
        // The INSERT starts on the next turn of the event loop, never inside the caller's call.
        this.kickQueued = true;
        setImmediate(() => {
          this.kickQueued = false;
          void this.kick();
        });
      } else {
        this.schedule();
      }
    } catch (error) {
      this.logger.error({ err: { message: reasonOf(error) } }, 'ledger: could not queue a request row');
    }
  }

  /**
   * Resolves once every row added before the call is written (or dropped);
   * rejects after `timeoutMs` when the database does not take them.
   */
  flush(options: { timeoutMs?: number } = {}): Promise<void> {
    const target = this.nextN;
    if (this.oldestPending() >= target) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? 5_000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const cause = this.lastError === undefined ? '' : `: the database is unavailable (${reasonOf(this.lastError)})`;
        reject(new Error(`ledger: ${this.stats().buffered} rows still unwritten after ${timeoutMs} ms${cause}`));
      }, timeoutMs);
      const waiter: Waiter = {
        target,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
      // A reader wants its rows now, outage or not: try at once rather than at the next retry.
      void this.kick();
    });
  }

  /**
   * Stops the timer and keeps trying to write what is buffered until it is
   * written or `graceMs` has passed; returns (and logs) how many rows were not.
   */
  close(graceMs = 5_000): Promise<{ unwritten: number }> {
    this.closing ??= this.shutDown(graceMs);
    return this.closing;
  }

  stats(): LedgerWriterStats {
    return {
      buffered: this.queue.length + this.inFlight.length,
      written: this.written,
      dropped: this.drops.total,
      failedFlushes: this.failedFlushes,
    };
  }

  private async shutDown(graceMs: number) {
    clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + graceMs;
    // No backoff here: the grace time is short and every row written now is one not lost.
    while (this.stats().buffered > 0 && Date.now() < deadline) {
      const settled = await within(this.kick(), deadline - Date.now());
      if (settled && this.stats().buffered > 0)
        await within(sleep(this.settings.retryInitialMs), deadline - Date.now());
    }
    // An insert still in flight at the deadline decides whether its rows count as written: wait for it, briefly.
    if (this.draining) await within(this.draining, 1000);
    const unwritten = this.stats().buffered;
    if (unwritten > 0) {
      this.logger.error(
        { unwritten, graceMs, err: { message: reasonOf(this.lastError) } },
        `ledger: ${unwritten} request rows could not be written before shutdown`,
      );
    }
    this.drops.log();
    for (const waiter of this.waiters) waiter.reject(new Error('ledger: closed before these rows were written'));
    this.waiters.clear();
    return { unwritten };
  }

  private schedule() {
    if (this.closing || this.timer || this.draining || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.kick();
    }, this.retryDelay || this.settings.flushIntervalMs);
    // A pending write must not keep a finished process alive; close() is what waits for it.
    this.timer.unref();
  }

  /** Starts draining the queue unless that is under way; resolves when the drain ends. */
  private kick(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      this.schedule();
    });
    return this.draining;
  }

  private async drain() {
    while (this.queue.length > 0) {
      const batch = this.queue.take(this.settings.batchSize);
      const refused = new Set<Entry>();
      this.inFlight = batch;
      try {
        await this.insert(batch, refused);
      } catch (error) {
        this.inFlight = [];
        this.putBack(batch.filter((entry) => !refused.has(entry)));
        this.failed(error);
        return;
      }
      this.inFlight = [];
      this.written += batch.length - refused.size;
      this.recovered();
      this.settleWaiters();
    }
  }

  /** Inserts the batch; rows the database refuses even one at a time go into `refused`, dropped. */
  private async insert(batch: Entry[], refused: Set<Entry>) {
    try {
      await this.insertRows(batch);
      return;
    } catch (error) {
      if (!isRowError(error)) throw error;
    }
    // Some row is unacceptable: find it rather than retry (and fail) the whole batch forever.
    for (const entry of batch) {
      try {
        await this.insertRows([entry]);
      } catch (error) {
        if (!isRowError(error)) throw error;
        refused.add(entry);
        this.noteDropped(1, 'the database refused it');
        this.logger.error(
          { requestId: entry.row.id, err: { message: reasonOf(error) } },
          'ledger: request row refused',
        );
      }
    }
  }

  private async insertRows(entries: Entry[]) {
    await this.db
      .insertInto('requests')
      .values(entries.map((entry) => tableRowFromRequest(entry.row)))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** Returns a failed batch to the front, keeping within the bound by dropping the oldest. */
  private putBack(batch: Entry[]) {
    this.queue.unshiftAll(batch);
    const excess = this.queue.length - this.settings.maxBufferedRows;
    if (excess > 0) this.noteDropped(this.queue.drop(excess), 'the buffer is full');
  }

  private failed(error: unknown) {
    this.failedFlushes += 1;
    this.lastError = error;
    if (this.outageSince === null) {
      this.outageSince = Date.now();
      this.logger.error(
        { buffered: this.stats().buffered, err: { message: reasonOf(error) } },
        'ledger: cannot write to the database; buffering request rows and retrying',
      );
    }
    this.retryDelay =
      this.retryDelay === 0 ? this.settings.retryInitialMs : Math.min(this.retryDelay * 2, this.settings.retryMaxMs);
  }

  private recovered() {
    this.lastError = undefined;
    this.retryDelay = 0;
    if (this.outageSince === null) return;
    this.logger.info(
      { outageMs: Date.now() - this.outageSince, buffered: this.stats().buffered },
      'ledger: the database takes writes again; writing the buffered rows',
    );
    this.outageSince = null;
  }

  private noteDropped(rows: number, reason: string) {
    this.drops.note(rows, reason);
    this.settleWaiters();
  }

  /** The add() order of the oldest row not yet written or dropped (rows leave in that order). */
  private oldestPending(): number {
    return this.inFlight[0]?.n ?? this.queue.peek()?.n ?? this.nextN;
  }

  private settleWaiters() {
    const oldest = this.oldestPending();
    for (const waiter of this.waiters) {
      if (waiter.target > oldest) continue;
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `promise` at most `ms`; true when it settled in time. The timer is cleared either way. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
