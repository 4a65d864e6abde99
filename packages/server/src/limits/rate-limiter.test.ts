import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningRedisServer, startRedisServer } from '../../test-utils/redis-server.ts';
import { type Admission, createRateLimiter, type RateLimiter, type RateLimiterOptions } from './index.ts';

// On a whole second, so that one-second buckets begin at T0 + n seconds.
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const SECOND = 1000;

interface Backend {
  name: string;
  setUp(): Promise<RateLimiterOptions>;
  tearDown(): Promise<void>;
}

let redis: RunningRedisServer | undefined;
const backends: Backend[] = [
  { name: 'in memory', setUp: async () => ({}), tearDown: async () => {} },
  {
    name: 'in Redis',
    async setUp() {
      redis = await startRedisServer();
      return { redisUrl: redis.url };
    },
    tearDown: async () => redis?.stop(),
  },
];

function refused(admission: Admission) {
  if (admission.ok) throw new Error('expected a refusal, got an admission');
  return admission;
}

function accepted(admission: Admission) {
  if (!admission.ok) throw new Error(`expected an admission, got: ${admission.message}`);
  return admission;
}

describe.each(backends)('the rate limiter $name', (backend) => {
  let base: RateLimiterOptions;
  let clock: number;
  let limiter: RateLimiter;

  beforeAll(async () => {
    base = await backend.setUp();
  });
  afterAll(() => backend.tearDown());
  beforeEach(() => {
    clock = T0;
    // A prefix per test keeps tests apart in the one Redis.
    limiter = createRateLimiter({ ...base, keyPrefix: `test:${randomUUID()}:`, now: () => clock });
  });
  afterEach(() => limiter.close());

  const request = (key = 'alice', limits = {}) => limiter.admit(key, limits, { stream: false });
  const stream = (key = 'alice', limits = {}) => limiter.admit(key, limits, { stream: true });

  describe('requestsPerMinute', () => {
    const limits = { requestsPerMinute: 2 };

    it('refuses the request over the limit, saying when the oldest one leaves the window', async () => {
      expect((await request('alice', limits)).ok).toBe(true);
      clock = T0 + 30 * SECOND;
      expect((await request('alice', limits)).ok).toBe(true);
      clock = T0 + 49 * SECOND;

      expect(await request('alice', limits)).toEqual({
        ok: false,
        limit: 'requests',
        retryAfterMs: 12 * SECOND,
        message: 'API key "alice" is over its limit of 2 requests per minute; retry in 12 s.',
      });
    });

    it('slides: each request frees its place once it has been counted for a full minute', async () => {
      await request('alice', limits);
      clock = T0 + 30 * SECOND;
      await request('alice', limits);

      clock = T0 + 61 * SECOND - 1;
      const almost = refused(await request('alice', limits));
      expect(almost.retryAfterMs).toBe(1);
      expect(almost.message).toMatch(/retry in 1 s\.$/);

      clock = T0 + 61 * SECOND;
      expect((await request('alice', limits)).ok).toBe(true);
      // The request made at 30 s is still in the window: the count did not reset.
      expect(refused(await request('alice', limits)).retryAfterMs).toBe(30 * SECOND);
    });

    it('counts nothing for a refused request', async () => {
      await request('alice', { requestsPerMinute: 1 });
      for (const second of [10, 20, 30, 40, 50]) {
        clock = T0 + second * SECOND;
        expect(refused(await request('alice', { requestsPerMinute: 1 })).message).toBe(
          `API key "alice" is over its limit of 1 request per minute; retry in ${61 - second} s.`,
        );
      }

      clock = T0 + 61 * SECOND;
      expect((await request('alice', { requestsPerMinute: 1 })).ok).toBe(true);
    });
  });

  it('admits exactly the limit when requests race for the last places', async () => {
    const admissions = await Promise.all(Array.from({ length: 30 }, () => request('alice', { requestsPerMinute: 10 })));

    expect(admissions.filter((admission) => admission.ok)).toHaveLength(10);
  });

  it('treats a limit that is not set as unlimited', async () => {
    await limiter.recordTokens('alice', 1_000_000);
    // Only requestsPerMinute is set: tokens and streams are unlimited.
    const admissions = await Promise.all(
      Array.from({ length: 200 }, () => stream('alice', { requestsPerMinute: 200 })),
    );

    expect(admissions.every((admission) => admission.ok)).toBe(true);
  });

  it('keeps the counters of different keys apart', async () => {
    await request('alice', { requestsPerMinute: 1 });
    await stream('alice', { concurrentStreams: 1 });
    await limiter.recordTokens('alice', 500);

    expect((await request('alice', { requestsPerMinute: 1 })).ok).toBe(false);
    expect((await request('bob', { requestsPerMinute: 1 })).ok).toBe(true);
    expect((await stream('bob', { concurrentStreams: 1 })).ok).toBe(true);
    expect((await request('bob', { tokensPerMinute: 500 })).ok).toBe(true);
  });

  describe('concurrentStreams', () => {
    const limits = { concurrentStreams: 2 };

    it('refuses a stream while every slot is taken, and admits one again once a slot is released', async () => {
      const first = accepted(await stream('alice', limits));
      accepted(await stream('alice', limits));

      expect(await stream('alice', limits)).toEqual({
        ok: false,
        limit: 'streams',
        retryAfterMs: 1000,
        message: 'API key "alice" already has its limit of 2 concurrent streams open; end one or retry in 1 s.',
      });

      await first.release();
      expect((await stream('alice', limits)).ok).toBe(true);
    });

    it('frees only one slot however often release() is called', async () => {
      const first = accepted(await stream('alice', limits));
      accepted(await stream('alice', limits));

      await Promise.all([first.release(), first.release()]);
      await first.release();

      expect((await stream('alice', limits)).ok).toBe(true);
      expect(refused(await stream('alice', limits)).limit).toBe('streams');
    });

    it('takes no slot for a request that is not a stream', async () => {
      accepted(await stream('alice', { concurrentStreams: 1 }));

      const plain = accepted(await request('alice', { concurrentStreams: 1 }));
      await plain.release();

      expect((await request('alice', { concurrentStreams: 1 })).ok).toBe(true);
      expect(refused(await stream('alice', { concurrentStreams: 1 })).limit).toBe('streams');
    });
  });

  describe('tokensPerMinute', () => {
    const limits = { tokensPerMinute: 1000 };

    it('admits while the tokens of the last minute stay under the limit', async () => {
      await limiter.recordTokens('alice', 999);

      expect((await request('alice', limits)).ok).toBe(true);
    });

    it('refuses once the recorded tokens reach the limit, until enough of them leave the window', async () => {
      await limiter.recordTokens('alice', 400);
      clock = T0 + 20 * SECOND;
      await limiter.recordTokens('alice', 600);
      clock = T0 + 30 * SECOND;

      expect(await request('alice', limits)).toEqual({
        ok: false,
        limit: 'tokens',
        retryAfterMs: 31 * SECOND,
        message: 'API key "alice" is over its limit of 1,000 tokens per minute; retry in 31 s.',
      });

      clock = T0 + 61 * SECOND;
      expect((await request('alice', limits)).ok).toBe(true);
    });
  });

  describe('all limits together', () => {
    it('counts no request for a stream that is refused its slot', async () => {
      const limits = { requestsPerMinute: 2, concurrentStreams: 1 };
      const first = accepted(await stream('alice', limits));
      expect(refused(await stream('alice', limits)).limit).toBe('streams');
      await first.release();

      // Had the refused stream been counted, this second request would be the third.
      expect((await request('alice', limits)).ok).toBe(true);
      expect(refused(await request('alice', limits)).limit).toBe('requests');
    });

    it('takes no stream slot for a stream that is refused for its request rate', async () => {
      const limits = { requestsPerMinute: 1, concurrentStreams: 1 };
      await request('alice', limits);
      expect(refused(await stream('alice', limits)).limit).toBe('requests');

      clock = T0 + 61 * SECOND;
      expect((await stream('alice', limits)).ok).toBe(true);
    });

    it('reports the limit the caller has to wait for longest', async () => {
      const limits = { requestsPerMinute: 1, tokensPerMinute: 100, concurrentStreams: 1 };
      accepted(await stream('alice', limits));
      clock = T0 + 30 * SECOND;
      await limiter.recordTokens('alice', 100);
      clock = T0 + 40 * SECOND;

      const refusal = refused(await stream('alice', limits));

      expect(refusal.limit).toBe('tokens');
      expect(refusal.retryAfterMs).toBe(51 * SECOND);
    });
  });
});
