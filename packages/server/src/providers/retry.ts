import { type UpstreamFailure, upstreamFailureOf } from './errors.ts';

export interface RetryPolicy {
  /** Retries after the first attempt (UPSTREAM_RETRY_ATTEMPTS). */
  attempts: number;
  /** The first backoff; each later one doubles (UPSTREAM_RETRY_BASE_MS). */
  baseMs: number;
  /** The time retries may add, counted from the first failure (UPSTREAM_RETRY_BUDGET_MS). */
  budgetMs: number;
}

/** Statuses that say "busy or broken for a moment" rather than anything about the request. */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

/**
 * Whether a failure may go away if the same request is sent again. The caller
 * asks only while nothing has reached its consumer yet. Timeouts are not
 * retried: the time is already spent, and selectModel has other models to try.
 * A 500 is not retried either: it usually means the provider cannot handle this
 * request, and sending it again doubles the wait for the same answer.
 */
export function isRetryable(failure: UpstreamFailure): boolean {
  const { status } = failure.details;
  switch (failure.kind) {
    case 'connect':
      return true;
    case 'status':
      return status === 429 || (status !== null && TRANSIENT_STATUSES.has(status));
    case 'stream':
      // An error event in place of the first token ("overloaded, try again"); a
      // connection lost after the headers is not: the provider may be generating.
      return status !== null && TRANSIENT_STATUSES.has(status);
    default:
      return false;
  }
}

/** Exponential backoff with "equal jitter": half fixed, half random, so clients that failed together spread out. */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = policy.baseMs * 2 ** Math.max(0, retry - 1);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface RetryState {
  /** Retries already made (0 after the first attempt failed). */
  retriesDone: number;
  /** Time since the first attempt failed. */
  elapsedMs: number;
}

/**
 * How long to wait before sending the request again, or null to give up and
 * throw the error as it is. A 429 waits for its Retry-After; when that does not
 * fit the remaining budget the 429 (TOO_MANY_REQUESTS with retryAfterMs) is the answer.
 */
export function retryDelay(
  error: unknown,
  policy: RetryPolicy,
  state: RetryState,
  random: () => number = Math.random,
): number | null {
  const failure = upstreamFailureOf(error);
  if (!failure || !isRetryable(failure) || state.retriesDone >= policy.attempts) return null;
  const backoff = backoffMs(policy, state.retriesDone + 1, random);
  const delay = Math.max(backoff, failure.details.retryAfterMs ?? 0);
  return state.elapsedMs + delay <= policy.budgetMs ? delay : null;
}
