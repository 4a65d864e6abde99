import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from './memory.ts';
import { SlidingWindow } from './sliding-window.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MINUTE = 60_000;

describe('the in-memory rate limiter', () => {
  it('forgets keys that have been idle for over a minute', async () => {
    let clock = T0;
    const limiter = createMemoryRateLimiter({ now: () => clock });
    for (let n = 0; n < 10_000; n += 1) {
      await limiter.admit(`key-${n}`, { requestsPerMinute: 10 }, { stream: false });
      await limiter.recordTokens(`key-${n}`, 100);
    }
    expect(limiter.trackedKeys).toBe(10_000);

    clock = T0 + 2 * MINUTE;
    await limiter.admit('still-active', { requestsPerMinute: 10 }, { stream: false });

    expect(limiter.trackedKeys).toBe(1);
  });

  it('remembers a key for as long as one of its streams is open', async () => {
    let clock = T0;
    const limiter = createMemoryRateLimiter({ now: () => clock });
    const held = await limiter.admit('alice', { concurrentStreams: 1 }, { stream: true });
    if (!held.ok) throw new Error(held.message);

    clock = T0 + 10 * MINUTE;
    await limiter.admit('bob', {}, { stream: false });
    expect(limiter.trackedKeys).toBe(2);
    expect((await limiter.admit('alice', { concurrentStreams: 1 }, { stream: true })).ok).toBe(false);

    await held.release();
    clock = T0 + 12 * MINUTE;
    await limiter.admit('bob', {}, { stream: false });
    expect(limiter.trackedKeys).toBe(1);
  });
});

describe('SlidingWindow', () => {
  it('holds at most 61 one-second buckets however many units arrive', () => {
    const window = new SlidingWindow();
    for (let ms = 0; ms < 10 * MINUTE; ms += 100) window.add(T0 + ms, 1);

    expect(window.size).toBe(61);
    expect(window.total(T0 + 10 * MINUTE)).toBe(600);
  });

  it('says a total is already low enough with a wait of zero', () => {
    const window = new SlidingWindow();
    window.add(T0, 5);

    expect(window.msUntilAtMost(T0, 5)).toBe(0);
    expect(window.msUntilAtMost(T0 + 500, 4)).toBe(61_000 - 500);
  });

  it('adds to the newest bucket when the clock steps back', () => {
    const window = new SlidingWindow();
    window.add(T0 + 5000, 1);
    window.add(T0 + 1000, 1);

    expect(window.size).toBe(1);
    expect(window.total(T0 + 5000)).toBe(2);
  });
});
