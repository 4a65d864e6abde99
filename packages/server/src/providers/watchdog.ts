import { TRPCError } from '@trpc/server';
import { type FailureKind, UpstreamFailure } from './errors.ts';

/**
 * Fires when a provider stays silent too long. Paused while our own consumer
 * holds the stream, so a slow reader never counts against the provider (a
 * wall-clock deadline is the same timer, never paused).
 *
 * The relay moves the deadline for every chunk and pauses it for every event,
 * so moving it is arithmetic only: the one timer is set when armed and, when
 * it fires, looks at the deadline and sets itself again for the time left if
 * the deadline moved meanwhile. A stream thus costs a timer per timeout
 * period, not two per token.
 */
export class StreamWatchdog {
  expired: TRPCError | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now()), so a shorter deadline can bring it forward. */
  private timerAt = 0;
  private deadline = 0;
  private message = '';
  private running = false;
  /** The time that was left when paused, or null when not paused. */
  private left: number | null = null;

  constructor(
    private readonly provider: string,
    private readonly onExpire: (error: TRPCError) => void,
    private readonly kind: FailureKind = 'timeout',
  ) {}

  arm(ms: number, message: string) {
    this.message = message;
    this.running = true;
    this.left = null;
    this.deadline = performance.now() + ms;
    if (this.timer === undefined || this.timerAt > this.deadline) this.schedule(ms);
  }

  pause() {
    if (!this.running || this.left !== null) return;
    this.left = Math.max(0, this.deadline - performance.now());
  }

  resume() {
    if (this.left === null) return;
    this.deadline = performance.now() + this.left;
    this.left = null;
    if (this.timer === undefined) this.schedule(this.deadline - performance.now());
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = false;
    this.left = null;
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timerAt = performance.now() + ms;
    this.timer = setTimeout(this.check, Math.max(0, ms));
  }

  private readonly check = () => {
    this.timer = undefined;
    // Paused: resume() sets the timer again for whatever was left.
    if (!this.running || this.left !== null) return;
    const left = this.deadline - performance.now();
    if (left > 0) {
      this.schedule(left);
      return;
    }
    this.running = false;
    const details = { provider: this.provider, status: null, retryAfterMs: null };
    this.expired = new TRPCError({
      code: 'TIMEOUT',
      message: this.message,
      cause: new UpstreamFailure(this.message, details, this.kind),
    });
    this.onExpire(this.expired);
  };
}
