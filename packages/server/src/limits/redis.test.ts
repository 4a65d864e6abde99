import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRedisServer, startRedisServer } from '../../test-utils/redis-server.ts';
import { closedPort } from '../../test-utils/replay-upstream.ts';
import {
  type Admission,
  createRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
  RateLimitStoreUnavailable,
} from './index.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const SECOND = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function accepted(admission: Admission) {
  if (!admission.ok) throw new Error(`expected an admission, got: ${admission.message}`);
  return admission;
}

const opened: RateLimiter[] = [];
function limiterFor(options: RateLimiterOptions) {
  const limiter = createRateLimiter(options);
  opened.push(limiter);
  return limiter;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((limiter) => limiter.close()));
});

describe('the Redis rate limiter shared by several gateway instances', () => {
  let server: RunningRedisServer;
  let clock: number;
  /** Two gateway instances on one Redis and one prefix, as in a deployment. */
  const pair = (options: Partial<RateLimiterOptions> = {}) => {
    const shared = { redisUrl: server.url, keyPrefix: `test:${randomUUID()}:`, now: () => clock, ...options };
    return [limiterFor(shared), limiterFor(shared)] as const;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('counts the requests, tokens and streams of every instance together', async () => {
    clock = T0;
    const [a, b] = pair();

    await a.admit('alice', { requestsPerMinute: 2 }, { stream: false });
    await b.admit('alice', { requestsPerMinute: 2 }, { stream: false });
    expect((await a.admit('alice', { requestsPerMinute: 2 }, { stream: false })).ok).toBe(false);

    await a.recordTokens('bob', 100);
    expect((await b.admit('bob', { tokensPerMinute: 100 }, { stream: false })).ok).toBe(false);

    const slot = accepted(await a.admit('carol', { concurrentStreams: 1 }, { stream: true }));
    expect((await b.admit('carol', { concurrentStreams: 1 }, { stream: true })).ok).toBe(false);
    await slot.release();
    expect((await b.admit('carol', { concurrentStreams: 1 }, { stream: true })).ok).toBe(true);
  });

  it('admits exactly the limit when the instances race for the last places', async () => {
    clock = T0;
    const [a, b] = pair();
    const limits = { requestsPerMinute: 10, concurrentStreams: 4 };

    const admissions = await Promise.all(
      Array.from({ length: 40 }, (_, n) => (n % 2 ? a : b).admit('alice', limits, { stream: true })),
    );

    expect(admissions.filter((admission) => admission.ok)).toHaveLength(4);
    clock = T0 + 61 * SECOND;
    const later = await Promise.all(
      Array.from({ length: 20 }, (_, n) => (n % 2 ? a : b).admit('alice', limits, { stream: false })),
    );
    expect(later.filter((admission) => admission.ok)).toHaveLength(10);
  });

  it('admits a key that has no limits without asking Redis', async () => {
    const limiter = limiterFor({ redisUrl: `redis://127.0.0.1:${await closedPort()}` });

    expect((await limiter.admit('alice', {}, { stream: true })).ok).toBe(true);
  });

  it('frees the stream slots of an instance that stopped without releasing them once their lease runs out', async () => {
    clock = T0;
    const [crashed, survivor] = pair({ streamLeaseMs: 30 * SECOND });
    accepted(await crashed.admit('alice', { concurrentStreams: 1 }, { stream: true }));
    await crashed.close();

    clock = T0 + 30 * SECOND - 1;
    expect((await survivor.admit('alice', { concurrentStreams: 1 }, { stream: true })).ok).toBe(false);
    clock = T0 + 30 * SECOND;
    expect((await survivor.admit('alice', { concurrentStreams: 1 }, { stream: true })).ok).toBe(true);
  });

  it("keeps renewing a held stream's lease on Redis's clock, and lets a dead instance's lease lapse", async () => {
    // No injected clock here: leases are scored by Redis's TIME, and the renewal timer runs for real.
    const [holder, other] = pair({ now: undefined, streamLeaseMs: 300 });
    const held = accepted(await holder.admit('alice', { concurrentStreams: 1 }, { stream: true }));

    await sleep(1000);
    expect((await other.admit('alice', { concurrentStreams: 1 }, { stream: true })).ok).toBe(false);

    await held.release();
    const keyPrefix = `test:${randomUUID()}:`;
    const crashed = limiterFor({ redisUrl: server.url, keyPrefix, streamLeaseMs: 300 });
    accepted(await crashed.admit('bob', { concurrentStreams: 1 }, { stream: true }));
    await crashed.close();
    const survivor = limiterFor({ redisUrl: server.url, keyPrefix, streamLeaseMs: 300 });
    expect((await survivor.admit('bob', { concurrentStreams: 1 }, { stream: true })).ok).toBe(false);
    await sleep(350);
    expect((await survivor.admit('bob', { concurrentStreams: 1 }, { stream: true })).ok).toBe(true);
  });

  it('gives every key it writes an expiry, so idle keys leave Redis on their own', async () => {
    clock = T0;
    const prefix = `test:${randomUUID()}:`;
    const limiter = limiterFor({ redisUrl: server.url, keyPrefix: prefix, now: () => clock });
    await limiter.admit('alice', { requestsPerMinute: 5, concurrentStreams: 5 }, { stream: true });
    await limiter.recordTokens('alice', 10);

    const inspector = new Redis(server.url);
    try {
      const keys = (await inspector.keys(`${prefix}*`)).sort();
      expect(keys).toEqual([`${prefix}{alice}:requests`, `${prefix}{alice}:streams`, `${prefix}{alice}:tokens`]);
      for (const key of keys) {
        const ttl = await inspector.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(61 * SECOND);
      }
    } finally {
      await inspector.quit();
    }
  });
});

describe('the Redis rate limiter without Redis', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('rejects admit() with RateLimitStoreUnavailable within 1.5 s once Redis is down', async () => {
    const server = await startRedisServer();
    const warnings: string[] = [];
    const logger = { warn: (_: object, message: string) => warnings.push(message), info() {} };
    const limiter = limiterFor({ redisUrl: server.url, logger });
    const held = accepted(await limiter.admit('alice', { concurrentStreams: 1 }, { stream: true }));

    await server.stop();
    const started = performance.now();
    await expect(limiter.admit('alice', { requestsPerMinute: 5 }, { stream: false })).rejects.toBeInstanceOf(
      RateLimitStoreUnavailable,
    );
    expect(performance.now() - started).toBeLessThan(1500);

    // Neither of these may throw: the gateway calls them on its way out of a request.
    await expect(limiter.recordTokens('alice', 10)).resolves.toBeUndefined();
    await expect(held.release()).resolves.toBeUndefined();
    await sleep(200);
    expect(unhandled).toEqual([]);
    expect(warnings).toContain('rate-limit store unreachable: admitting nothing until it is back');
  });

  it('rejects admit() with RateLimitStoreUnavailable when Redis was never reachable', async () => {
    const limiter = limiterFor({ redisUrl: `redis://127.0.0.1:${await closedPort()}` });

    const started = performance.now();
    const failure = await limiter
      .admit('alice', { requestsPerMinute: 5 }, { stream: false })
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(RateLimitStoreUnavailable);
    expect((failure as Error).message).toMatch(/^The rate-limit store is unreachable/);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(unhandled).toEqual([]);
  });

  it('admits again once Redis is back at the same address', async () => {
    const first = await startRedisServer();
    const limiter = limiterFor({ redisUrl: first.url });
    await first.kill();
    const limits = { requestsPerMinute: 100 };
    await expect(limiter.admit('alice', limits, { stream: false })).rejects.toBeInstanceOf(RateLimitStoreUnavailable);

    const second = await startRedisServer({ port: first.port });
    try {
      let admission: Admission | undefined;
      for (let attempt = 0; attempt < 50 && !admission; attempt += 1) {
        admission = await limiter.admit('alice', limits, { stream: false }).catch(() => undefined);
        if (!admission) await sleep(100);
      }
      expect(admission?.ok).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it('closes without leaving a socket or a timer behind, whether Redis is up or down', async () => {
    const resources = () => process.getActiveResourcesInfo().sort();
    await sleep(100); // the test runner's own timer from the previous test ends
    const before = resources();
    const server = await startRedisServer();
    const up = createRateLimiter({ redisUrl: server.url, streamLeaseMs: 300 });
    const down = createRateLimiter({ redisUrl: server.url });
    await up.admit('alice', { concurrentStreams: 1 }, { stream: true });
    await down.admit('alice', { requestsPerMinute: 5 }, { stream: false });

    await up.close();
    await server.stop();
    await sleep(150); // `down` is now between reconnection attempts
    await down.close();

    expect(resources()).toEqual(before);
  });
});
