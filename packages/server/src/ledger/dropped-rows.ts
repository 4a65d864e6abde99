import type { LedgerLogger } from './database.ts';

/**
 * Counts the request rows the ledger had to give up on and reports them: to
 * the metric at once, to the log at most once per interval, because during a
 * long outage with a full buffer every request pushes a row out.
 */
export class DroppedRows {
  total = 0;
  private unlogged = 0;
  private lastLogAt = 0;

  constructor(
    private readonly logger: LedgerLogger,
    private readonly onDrop: ((rows: number) => void) | undefined,
    private readonly context: Record<string, unknown>,
    private readonly logIntervalMs = 10_000,
  ) {}

  note(rows: number, reason: string) {
    if (rows <= 0) return;
    this.total += rows;
    this.unlogged += rows;
    try {
      this.onDrop?.(rows);
    } catch {
      // A metric's failure must not reach the request path.
    }
    if (Date.now() - this.lastLogAt >= this.logIntervalMs) this.log(reason);
  }

  /** Logs the drops not logged yet, if any. */
  log(reason?: string) {
    if (this.unlogged === 0) return;
    this.logger.warn(
      { dropped: this.unlogged, droppedTotal: this.total, ...this.context },
      `ledger: dropped ${this.unlogged} request rows${reason ? ` (${reason})` : ''}`,
    );
    this.unlogged = 0;
    this.lastLogAt = Date.now();
  }
}
