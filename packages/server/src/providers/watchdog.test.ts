import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamWatchdog } from './watchdog.ts';

describe('StreamWatchdog', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  const watch = () => {
    const fired = vi.fn();
    return { fired, dog: new StreamWatchdog('p', fired) };
  };

  it('fires once the time runs out, with a TIMEOUT naming the setting', () => {
    const { fired, dog } = watch();
    dog.arm(100, 'nothing within 100 ms (X_MS)');
    vi.advanceTimersByTime(99);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    expect(dog.expired).toMatchObject({ code: 'TIMEOUT', message: 'nothing within 100 ms (X_MS)' });
  });

  it('counts from the last arm: a chunk every 60 ms keeps a 100 ms watchdog quiet', () => {
    const { fired, dog } = watch();
    dog.arm(100, 'idle');
    for (let i = 0; i < 10; i += 1) {
      vi.advanceTimersByTime(60);
      dog.arm(100, 'idle');
    }
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('sets no timer per chunk: a thousand moves cost one timer, set again only when it fires early', () => {
    const { dog } = watch();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    dog.arm(100, 'idle');
    vi.advanceTimersByTime(50);
    for (let i = 0; i < 1000; i += 1) {
      dog.pause();
      dog.resume();
      dog.arm(100, 'idle');
    }
    expect(timers).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(50); // fires, finds the deadline moved, sets itself for the rest
    expect(timers).toHaveBeenCalledTimes(2);
    timers.mockRestore();
  });

  it('brings the timer forward for a shorter time', () => {
    const { fired, dog } = watch();
    dog.arm(1000, 'first token');
    dog.arm(50, 'idle');
    vi.advanceTimersByTime(50);
    expect(dog.expired?.message).toBe('idle');
    expect(fired).toHaveBeenCalledOnce();
  });

  it('does not count the time it is paused (our own consumer holding the stream)', () => {
    const { fired, dog } = watch();
    dog.arm(100, 'idle');
    vi.advanceTimersByTime(80);
    dog.pause();
    vi.advanceTimersByTime(500);
    expect(fired).not.toHaveBeenCalled();
    dog.resume();
    vi.advanceTimersByTime(19);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('never fires once stopped', () => {
    const { fired, dog } = watch();
    dog.arm(100, 'idle');
    dog.pause();
    dog.stop();
    dog.resume();
    vi.advanceTimersByTime(1000);
    expect(fired).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
