import { TRPCClientError, type TRPCLink } from '@trpc/client';
import type { AnyRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';

/** How the gateway closed the WebSocket when it refused it, rather than lost it. */
interface Refusal {
  code: number;
  reason: string;
}

/** Close codes the gateway uses to refuse a connection, as the tRPC errors they stand for. */
const REFUSALS: Record<number, { code: string; httpStatus: number; message?: string }> = {
  4401: { code: 'UNAUTHORIZED', httpStatus: 401 },
  4429: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 },
  // tRPC batches the requests of one tick into one message, which can outgrow the limit.
  1009: {
    code: 'PAYLOAD_TOO_LARGE',
    httpStatus: 413,
    message:
      'The gateway closed the connection because a message was larger than it accepts (WS_MAX_PAYLOAD_BYTES): send smaller inputs, or fewer subscriptions at once.',
  },
};

/** The refusal in a WebSocket close event, or null for an ordinary close. */
function readRefusal(event: unknown): Refusal | null {
  const { code, reason } = (event ?? {}) as { code?: number; reason?: unknown };
  return code !== undefined && REFUSALS[code] ? { code, reason: String(reason ?? '') } : null;
}

/** Follows the WebSocket's opens and closes (wire `opened` and `closed` to createWSClient's onOpen/onClose). */
export class RefusalWatch {
  last: Refusal | null = null;
  private waiters: Array<() => void> = [];

  opened = () => {
    this.last = null;
  };

  closed = (event: unknown) => {
    this.last = readRefusal(event);
    for (const wake of this.waiters.splice(0)) wake();
  };

  /** The refusal, once the socket's close (which tRPC reports after the failure) has been seen, or null. */
  async settle(waitMs = 250): Promise<Refusal | null> {
    if (this.last) return this.last;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.last;
  }
}

function refusalError(refusal: Refusal) {
  // readRefusal only makes refusals for codes in the table.
  const { message, ...data } = REFUSALS[refusal.code] as (typeof REFUSALS)[number];
  return TRPCClientError.from({
    error: { message: refusal.reason || message || data.code, code: -32001, data },
  } as Parameters<typeof TRPCClientError.from>[0]);
}

/**
 * When the gateway refuses the WebSocket itself (a wrong key, too many
 * connections, a message over its size limit), tRPC would reconnect and send
 * the same requests again, forever. This link ends each waiting subscription
 * with the gateway's reason instead, for streamGenerate and raw `subscribe` alike.
 */
export function refusalLink<TRouter extends AnyRouter>(watch: RefusalWatch): TRPCLink<TRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let ended = false;
        const subscription = next(op).subscribe({
          next(value) {
            if (ended) return;
            const result = value.result as { type?: string; state?: string; error?: unknown };
            const refusal =
              op.type === 'subscription' && result.type === 'state' && result.state === 'connecting' && result.error
                ? watch.last
                : null;
            if (refusal) {
              ended = true;
              observer.error(refusalError(refusal));
              subscription?.unsubscribe();
              return;
            }
            observer.next(value);
          },
          error(error) {
            if (ended) return;
            ended = true;
            if (error.data?.code) {
              observer.error(error);
              return;
            }
            // tRPC reports "connection closed" for a socket the gateway refused: give the reason.
            void watch.settle().then((refusal) => observer.error(refusal ? refusalError(refusal) : error));
          },
          complete() {
            if (!ended) observer.complete();
          },
        });
        return () => subscription.unsubscribe();
      });
}
