import { TRPCError } from '@trpc/server';
import type { Admission } from './index.ts';

/** The `cause` of a refusal that will succeed later: the error formatter turns it into `data.retryAfterMs`. */
export class RetryLater extends Error {
  override name = 'RetryLater';
  constructor(readonly retryAfterMs: number) {
    super(`retry after ${retryAfterMs} ms`);
  }
}

export const retryLater = (ms: number) => new RetryLater(Math.max(0, Math.ceil(ms)));

/** A refused admission as the TOO_MANY_REQUESTS error the caller sees. */
export function refusal(admission: Extract<Admission, { ok: false }>): TRPCError {
  return new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: admission.message,
    cause: retryLater(admission.retryAfterMs),
  });
}
