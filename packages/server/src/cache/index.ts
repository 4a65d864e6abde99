import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { GatewayMetrics } from '../metrics/index.ts';
import type { CacheStore } from './cache-store.ts';
import { MemoryStore } from './memory-store.ts';
import { RedisStore } from './redis-store.ts';
import { ResponseCache } from './response-cache.ts';

/** The gateway's response cache as CACHE_* and REDIS_URL configure it; null when CACHE_MODE is off. */
export function createResponseCache(config: Config, metrics: GatewayMetrics, logger: Logger): ResponseCache | null {
  if (config.CACHE_MODE === 'off') return null;
  const store: CacheStore = config.REDIS_URL
    ? new RedisStore(config.REDIS_URL, metrics.cache, logger)
    : new MemoryStore(config.CACHE_MAX_BYTES, metrics.cache);
  metrics.watchCache(() => store.bytes());
  logger.info(
    { mode: config.CACHE_MODE, store: store.kind, scope: config.CACHE_SCOPE },
    `response cache on (${config.CACHE_MODE}, ${store.kind})`,
  );
  return new ResponseCache({
    mode: config.CACHE_MODE,
    store,
    ttlSeconds: config.CACHE_TTL_SECONDS,
    threshold: config.CACHE_SEMANTIC_THRESHOLD,
    partitionEntries: config.CACHE_SEMANTIC_ENTRIES,
    scope: config.CACHE_SCOPE,
    metrics: metrics.cache,
  });
}
