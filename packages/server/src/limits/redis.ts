import { randomUUID } from 'node:crypto';
import { once as onceEvent } from 'node:events';
import { Redis } from 'ioredis';
import { z } from 'zod';
import {
  type Admission,
  admitted,
  hasLimits,
  type KeyLimits,
  type LimiterLogger,
  once,
  type RateLimiter,
  RateLimitStoreUnavailable,
  refuse,
  silentLogger,
} from './rate-limiter.ts';
import { admitScript, recordTokensScript, renewLeasesScript } from './redis-scripts.ts';

export interface RedisRateLimiterOptions {
  redisUrl: string;
  /** Prepended to every Redis key, so several deployments can share one Redis. */
  keyPrefix?: string | undefined;
  /** Milliseconds since the epoch; when unset, Redis's own clock decides (see redis-scripts.ts). */
  now?: (() => number) | undefined;
  /** How long a stream slot outlives its last renewal, i.e. a crashed instance's slots. */
  streamLeaseMs?: number | undefined;
  logger?: LimiterLogger | undefined;
}

/** How long admit() waits for a connection attempt in progress; beyond it the gateway answers 503. */
const STORE_WAIT_MS = 1000;
const DEFAULT_LEASE_MS = 30_000;
/** How long ioredis waits for a socket to close after disconnect() before destroying it. */
const DISCONNECT_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const admitReply = z.union([
  z.tuple([z.literal(1), z.literal(''), z.literal(0)]),
  z.tuple([z.literal(0), z.enum(['requests', 'tokens', 'streams']), z.number().int().min(0)]),
]);

type Arg = string | number;
interface ScriptCommands {
  limitsAdmit(...args: Arg[]): Promise<unknown>;
  limitsRecordTokens(...args: Arg[]): Promise<unknown>;
}
interface ScriptPipeline {
  limitsRenewLeases(...args: Arg[]): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/**
 * Counters in Redis, shared by every gateway instance that uses the same Redis
 * and prefix. Each API key's three keys share a hash tag, so the admit script
 * also runs on Redis Cluster.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const prefix = options.keyPrefix ?? 'tokenflow:limits:';
  const leaseMs = options.streamLeaseMs ?? DEFAULT_LEASE_MS;
  if (!(leaseMs >= 100)) throw new RangeError(`streamLeaseMs must be at least 100, got ${leaseMs}`);
  const logger = options.logger ?? silentLogger;
  const clock = () => (options.now ? String(Math.floor(options.now())) : '');
  const instance = randomUUID();
  let nextSlot = 0;
  let closed = false;

  const redis = new Redis(options.redisUrl, {
    // Fail fast instead of queueing: a command queued while Redis is down would
    // run later and count a request the gateway has already refused with 503.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: STORE_WAIT_MS,
    commandTimeout: STORE_WAIT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    disconnectTimeout: DISCONNECT_MS,
    scripts: {
      limitsAdmit: { lua: admitScript, numberOfKeys: 3 },
      limitsRecordTokens: { lua: recordTokensScript, numberOfKeys: 1 },
      limitsRenewLeases: { lua: renewLeasesScript, numberOfKeys: 1 },
    },
  });
  const scripts = redis as unknown as ScriptCommands;

  // Without a listener an 'error' event would crash the process. One line per outage, not per retry.
  let healthy = true;
  redis.on('error', (error: Error) => {
    if (!healthy) return;
    healthy = false;
    logger.warn({ err: error.message }, 'rate-limit store unreachable: admitting nothing until it is back');
  });
  redis.on('ready', () => {
    if (healthy) return;
    healthy = true;
    logger.info({}, 'rate-limit store reachable again');
  });

  /**
   * Resolves when the connection attempt in progress has succeeded or failed, or
   * after STORE_WAIT_MS. Callers share one wait, so a burst of requests during a
   * reconnect adds three listeners, not three per request.
   */
  let settling: Promise<void> | undefined;
  function attemptSettled(): Promise<void> {
    if (!['wait', 'connecting', 'connect'].includes(redis.status)) return Promise.resolve();
    settling ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const event of ['ready', 'close', 'end']) redis.off(event, done);
        settling = undefined;
        resolve();
      };
      const timer = setTimeout(done, STORE_WAIT_MS);
      for (const event of ['ready', 'close', 'end']) redis.on(event, done);
    });
    return settling;
  }

  async function run<T>(command: () => Promise<T>): Promise<T> {
    try {
      await attemptSettled();
      return await command();
    } catch (error) {
      throw new RateLimitStoreUnavailable(
        `The rate-limit store is unreachable (${error instanceof Error ? error.message : String(error)}).`,
        { cause: error },
      );
    }
  }

  const keysOf = (key: string) => {
    // The braces are a Redis Cluster hash tag: one API key's keys live on one node.
    const base = `${prefix}{${key}}`;
    return { requests: `${base}:requests`, tokens: `${base}:tokens`, streams: `${base}:streams` };
  };

  /** Stream slots this instance holds, by the sorted set they live in. */
  const held = new Map<string, Set<string>>();

  // Held leases are renewed three times per lease, so one lost renewal costs nothing. The timer is
  // not unref'd: it lives until close(), like the connection, so a forgotten close() shows.
  const renewal = setInterval(() => void renew(), Math.max(50, Math.floor(leaseMs / 3)));

  async function renew() {
    if (held.size === 0 || redis.status !== 'ready') return;
    const pipeline = redis.pipeline() as unknown as ScriptPipeline;
    for (const [streams, slots] of held) pipeline.limitsRenewLeases(streams, clock(), leaseMs, ...slots);
    try {
      const results = (await pipeline.exec()) ?? [];
      const lost = results.reduce((sum, [error, count]) => sum + (error ? 0 : Number(count)), 0);
      if (lost > 0) logger.warn({ lost }, 'stream leases expired while held: those streams no longer count');
    } catch (error) {
      logger.warn({ err: String(error) }, 'could not renew stream leases');
    }
  }

  function hold(streams: string, slot: string) {
    const slots = held.get(streams) ?? new Set<string>();
    slots.add(slot);
    held.set(streams, slots);
    return once(async () => {
      slots.delete(slot);
      if (slots.size === 0 && held.get(streams) === slots) held.delete(streams);
      try {
        await redis.zrem(streams, slot);
      } catch (error) {
        // The lease runs out on its own: the slot comes back within streamLeaseMs.
        logger.warn({ err: String(error) }, 'could not release a stream slot; its lease will expire');
      }
    });
  }

  return {
    async admit(key: string, limits: KeyLimits, { stream }: { stream: boolean }): Promise<Admission> {
      const { requestsPerMinute, tokensPerMinute, concurrentStreams } = limits;
      // A key without limits needs no counters, so it is admitted even while Redis is down.
      if (!hasLimits(limits)) return admitted;
      const keys = keysOf(key);
      const takesSlot = stream && concurrentStreams !== undefined;
      const slot = takesSlot ? `${instance}:${nextSlot++}` : '';
      const reply = await run(() =>
        scripts.limitsAdmit(
          keys.requests,
          keys.tokens,
          keys.streams,
          clock(),
          requestsPerMinute ?? 0,
          tokensPerMinute ?? 0,
          concurrentStreams ?? 0,
          slot,
          leaseMs,
        ),
      );
      const [ok, limit, retryAfterMs] = admitReply.parse(reply);
      if (ok === 0) {
        const max = { requests: requestsPerMinute, tokens: tokensPerMinute, streams: concurrentStreams }[limit];
        return refuse(key, limit, max ?? 0, retryAfterMs);
      }
      return takesSlot ? { ok: true, release: hold(keys.streams, slot) } : admitted;
    },

    async recordTokens(key: string, tokens: number) {
      if (!(tokens > 0)) return;
      try {
        await run(() => scripts.limitsRecordTokens(keysOf(key).tokens, clock(), Math.round(tokens)));
      } catch (error) {
        // A lost record only lets this key go a little over its token budget; a crash would be worse.
        logger.warn({ err: String(error) }, 'could not record tokens');
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(renewal);
      // Slots still held are not released: their leases expire, as if this instance had crashed.
      held.clear();
      if (redis.status === 'end') return;
      if (redis.status === 'reconnecting') {
        // Between attempts there is no socket to close and ioredis never says 'end': wait out
        // the timer its disconnect() arms on the dead socket, so close() leaves no handle behind.
        redis.disconnect();
        await sleep(DISCONNECT_MS + 10);
        return;
      }
      const ended = onceEvent(redis, 'end');
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
      await ended;
    },
  };
}
