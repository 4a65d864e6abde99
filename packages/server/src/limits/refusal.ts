import { TRPCError } from '@trpc/server';
import { UpstreamFailure } from '../providers/errors.ts';
import type { Admission } from './index.ts';

/** The `cause` of a refusal that will succeed later: the error formatter turns it into `data.retryAfterMs`. */
export class RetryLater extends Error {
  override name = 'RetryLater';
  constructor(readonly retryAfterMs: number) {
    super(`retry after ${retryAfterMs} ms`);
  }
}

/**
 * What a caller may act on in an error's cause: the provider's side, and when
 * the same request may succeed (a limit's window, or the provider's Retry-After).
 */
export function causeDetails(cause: unknown) {
  const upstream = cause instanceof UpstreamFailure ? cause.details : null;
  const retryAfterMs = cause instanceof RetryLater ? cause.retryAfterMs : (upstream?.retryAfterMs ?? null);
  return { upstream, retryAfterMs };
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
