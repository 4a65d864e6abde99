import { createMemoryRateLimiter } from './memory.ts';
import type { LimiterLogger, RateLimiter } from './rate-limiter.ts';
import { createRedisRateLimiter } from './redis.ts';

export { createMemoryRateLimiter, type MemoryRateLimiter } from './memory.ts';
export {
  type Admission,
  hasLimits,
  type KeyLimits,
  keyLimitsSchema,
  type LimiterLogger,
  type LimitName,
  type RateLimiter,
  RateLimitStoreUnavailable,
} from './rate-limiter.ts';
export { createRedisRateLimiter, type RedisRateLimiterOptions } from './redis.ts';

export interface RateLimiterOptions {
  /** Share the counters through this Redis (several gateway instances); unset: in this process only. */
  redisUrl?: string | undefined;
  keyPrefix?: string | undefined;
  /** Milliseconds since the epoch; tests inject a clock to make a minute pass instantly. */
  now?: (() => number) | undefined;
  /** Redis only: how long a crashed instance's stream slots stay taken. */
  streamLeaseMs?: number | undefined;
  logger?: LimiterLogger | undefined;
}

/** The per-API-key rate limiter: in Redis when `redisUrl` is set, in memory otherwise. */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const { redisUrl, ...rest } = options;
  return redisUrl ? createRedisRateLimiter({ redisUrl, ...rest }) : createMemoryRateLimiter(rest);
}
