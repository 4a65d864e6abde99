import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { LedgerDialect } from './database.ts';
import { createLedger, type Ledger } from './index.ts';
import type { RequestRow } from './request-row.ts';
import type { LedgerTables } from './tables.ts';
import type { UsageExport, UsageQuery, UsageReport } from './usage-query.ts';

export interface LedgerServiceOptions {
  /** null: LEDGER=off, nothing is recorded. */
  databaseUrl: string | undefined;
  dataDir: string;
  maxBufferedRows: number;
  flushMs: number;
  logger: Logger;
  onDrop: (rows: number) => void;
}

/**
 * The gateway's handle on the request log. It is built with the other
 * services, synchronously, and opened (database connected, migrations run)
 * before the gateway listens, so every request finds it open. `record` never
 * waits: the writer batches rows off the request's path.
 */
export class LedgerService {
  private ledger: Ledger | null = null;
  private opening: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: LedgerServiceOptions | null) {}

  get enabled() {
    return this.options !== null;
  }

  open(): Promise<void> {
    const options = this.options;
    if (!options) return Promise.resolve();
    this.opening ??= createLedger({
      databaseUrl: options.databaseUrl,
      dataDir: options.dataDir,
      logger: options.logger,
      maxBufferedRows: options.maxBufferedRows,
      flushIntervalMs: options.flushMs,
      onDrop: options.onDrop,
    }).then((ledger: Ledger) => {
      this.ledger = ledger;
    });
    return this.opening as Promise<void>;
  }

  /** The database, for the budget counters that live beside the log. */
  get db(): Kysely<LedgerTables> {
    return this.opened().db;
  }

  get dialect(): LedgerDialect {
    return this.opened().dialect;
  }

  /** Writes what is buffered now, for at most `timeoutMs` (a shutdown does this while budget settles finish). */
  async flush(timeoutMs: number) {
    await this.ledger?.writer.flush({ timeoutMs }).catch(() => undefined);
  }

  record(row: RequestRow) {
    if (this.ledger) this.ledger.writer.add(row);
    else if (this.options && this.closed) {
      // A request that ended after the database closed (a shutdown past its grace): counted, never silent.
      this.options.onDrop(1);
      this.options.logger.warn({ requestId: row.id }, 'ledger: a row came after the database closed: dropped');
    }
  }

  /** A key's report from the database, after writing what this instance still holds (read your writes). */
  async usage(key: string, query: UsageQuery): Promise<Omit<UsageReport, 'budgets'>> {
    const ledger = this.opened();
    await ledger.writer.flush({ timeoutMs: 2000 }).catch(() => undefined);
    return ledger.query(key, query);
  }

  async *export(key: string, query: UsageExport): AsyncIterable<RequestRow> {
    const ledger = this.opened();
    await ledger.writer.flush({ timeoutMs: 2000 }).catch(() => undefined);
    yield* ledger.export(key, query);
  }

  /** Writes what is buffered within `graceMs`, then closes the database. */
  async close(graceMs: number) {
    this.closed = true;
    await this.opening?.catch(() => undefined);
    await this.ledger?.close(graceMs);
    this.ledger = null;
  }

  private opened(): Ledger {
    if (!this.ledger) throw new Error(this.options ? 'the ledger is not open yet' : 'the ledger is off (LEDGER=off)');
    return this.ledger;
  }
}
