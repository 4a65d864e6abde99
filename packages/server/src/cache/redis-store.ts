import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { CacheStore, StoreEvents } from './cache-store.ts';

/** A cache that answers slower than this is treated as down: going upstream is the fallback, not waiting. */
const COMMAND_TIMEOUT_MS = 250;
const DISCONNECT_MS = 100;

interface Logger {
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
}

/**
 * The cache in Redis, shared by every instance with the same REDIS_URL. While
 * Redis is down every command fails at once (no offline queue): reads are
 * misses and writes are skipped, and ioredis reconnects in the background.
 */
export class RedisStore implements CacheStore {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private healthy = true;

  constructor(
    url: string,
    private readonly events: Pick<StoreEvents, 'failed'>,
    private readonly logger: Logger,
  ) {
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      disconnectTimeout: DISCONNECT_MS,
    });
    // Without a listener an 'error' event would crash the process. One line per outage.
    this.redis.on('error', (error: Error) => {
      if (!this.healthy) return;
      this.healthy = false;
      this.logger.warn({ err: error.message }, 'response cache store unreachable: serving every request upstream');
    });
    this.redis.on('ready', () => {
      if (this.healthy) return;
      this.healthy = true;
      this.logger.info({}, 'response cache store reachable again');
    });
  }

  get(key: string) {
    return this.attempt('read', null, () => this.redis.get(key));
  }

  set(key: string, value: string, ttlMs: number) {
    return this.attempt('write', false, async () => (await this.redis.set(key, value, 'PX', ttlMs)) === 'OK');
  }

  push(key: string, value: string, cap: number, ttlMs: number) {
    return this.attempt('write', undefined, async () => {
      const results = await this.redis
        .multi()
        .lpush(key, value)
        .ltrim(key, 0, cap - 1)
        // A new list gets the item's time to live; an older one keeps a longer one it has (Redis 7).
        .pexpire(key, ttlMs, 'NX')
        .pexpire(key, ttlMs, 'GT')
        .exec();
      const failed = results?.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
    });
  }

  list(key: string) {
    return this.attempt('read', [] as string[], () => this.redis.lrange(key, 0, -1));
  }

  counter(key: string) {
    return this.attempt<number | null>('read', null, async () => Number((await this.redis.get(key)) ?? 0));
  }

  async bump(key: string) {
    // A purge that did not happen must say so: unlike a cache write, it is what the caller asked for.
    await this.redis.incr(key);
  }

  bytes() {
    return null;
  }

  async close() {
    if (this.redis.status === 'end') return;
    if (this.redis.status === 'reconnecting') {
      this.redis.disconnect();
      await new Promise((resolve) => setTimeout(resolve, DISCONNECT_MS + 10));
      return;
    }
    const ended = once(this.redis, 'end');
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
    await ended;
  }

  private async attempt<T>(operation: 'read' | 'write', fallback: T, command: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') {
      this.events.failed(operation, new Error(`redis is ${this.redis.status}`));
      return fallback;
    }
    try {
      return await command();
    } catch (error) {
      this.events.failed(operation, error);
      return fallback;
    }
  }
}
