import { z } from 'zod';

/** An API key's limits; a limit that is not set is unlimited. */
export const keyLimitsSchema = z
  .object({
    requestsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
    concurrentStreams: z.number().int().min(1).max(100_000).optional(),
    tokensPerMinute: z.number().int().min(1).max(1_000_000_000).optional(),
  })
  .strict();

export type KeyLimits = z.infer<typeof keyLimitsSchema>;

export type LimitName = 'requests' | 'streams' | 'tokens';

/** A key with no limit set needs no counters: it is admitted without asking the store. */
export const hasLimits = ({ requestsPerMinute, concurrentStreams, tokensPerMinute }: KeyLimits) =>
  requestsPerMinute !== undefined || concurrentStreams !== undefined || tokensPerMinute !== undefined;

export type Admission =
  /** release() gives the stream slot back; it is idempotent, never rejects, and a no-op for non-streams. */
  { ok: true; release(): Promise<void> } | { ok: false; limit: LimitName; retryAfterMs: number; message: string };

export interface RateLimiter {
  /**
   * One request by `key` (an API key's NAME, never the key itself): counts against requestsPerMinute,
   * refuses when the key's tokens in the last minute already reach tokensPerMinute, and when
   * `stream` is true takes one concurrent-stream slot until release(). Refusals count nothing.
   * Rejects with RateLimitStoreUnavailable when the counters cannot be reached.
   */
  admit(key: string, limits: KeyLimits, options: { stream: boolean }): Promise<Admission>;
  /** Tokens a finished request used (prompt + completion, from the provider's usage). Never rejects. */
  recordTokens(key: string, tokens: number): Promise<void>;
  close(): Promise<void>;
}

/** What the limiter reports when the store is down; pino's Logger fits. */
export interface LimiterLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export const silentLogger: LimiterLogger = { warn() {}, info() {} };

/** admit() could not reach the shared counters: the gateway fails closed and answers SERVICE_UNAVAILABLE. */
export class RateLimitStoreUnavailable extends Error {
  override name = 'RateLimitStoreUnavailable';
}

/**
 * A concurrent stream may end at any moment and nobody knows when, so the hint
 * is a short poll interval rather than a promise.
 */
export const STREAM_RETRY_MS = 1000;

const UNITS: Record<LimitName, [one: string, many: string]> = {
  requests: ['request per minute', 'requests per minute'],
  tokens: ['token per minute', 'tokens per minute'],
  streams: ['concurrent stream', 'concurrent streams'],
};

/** The refusal a caller sees, with a message that says which limit and when to come back. */
export function refuse(key: string, limit: LimitName, max: number, retryAfterMs: number): Admission {
  const [one, many] = UNITS[limit];
  const amount = `${max.toLocaleString('en-US')} ${max === 1 ? one : many}`;
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const message =
    limit === 'streams'
      ? `API key ${JSON.stringify(key)} already has its limit of ${amount} open; end one or retry in ${seconds} s.`
      : `API key ${JSON.stringify(key)} is over its limit of ${amount}; retry in ${seconds} s.`;
  return { ok: false, limit, retryAfterMs, message };
}

/** The admission of a request that took no stream slot. */
export const admitted: Admission = { ok: true, release: async () => {} };

/** Wraps a release so that only its first call does anything. */
export function once(release: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= release();
    return done;
  };
}
