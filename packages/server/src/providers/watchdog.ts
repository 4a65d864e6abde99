import { TRPCError } from '@trpc/server';
import { type FailureKind, UpstreamFailure } from './errors.ts';

/**
 * Fires when a provider stays silent too long. Paused while our own consumer
 * holds the stream, so a slow reader never counts against the provider (a
 * wall-clock deadline is the same timer, never paused).
 */
export class StreamWatchdog {
  expired: TRPCError | null = null;
  private timer: NodeJS.Timeout | undefined;
  private deadline = 0;
  private message = '';
  private paused: number | null = null;

  constructor(
    private readonly provider: string,
    private readonly onExpire: (error: TRPCError) => void,
    private readonly kind: FailureKind = 'timeout',
  ) {}

  arm(ms: number, message: string) {
    this.stop();
    this.message = message;
    this.deadline = Date.now() + ms;
    this.timer = setTimeout(() => {
      const details = { provider: this.provider, status: null, retryAfterMs: null };
      this.expired = new TRPCError({
        code: 'TIMEOUT',
        message,
        cause: new UpstreamFailure(message, details, this.kind),
      });
      this.onExpire(this.expired);
    }, ms);
  }

  pause() {
    if (this.timer === undefined) return;
    this.paused = Math.max(0, this.deadline - Date.now());
    this.stop();
  }

  resume() {
    if (this.paused === null) return;
    const left = this.paused;
    this.paused = null;
    this.arm(left, this.message);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
