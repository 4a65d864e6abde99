import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.ts';

function store(maxBytes: number) {
  let now = 0;
  const evicted: number[] = [];
  const memory = new MemoryStore(maxBytes, { evicted: (count) => evicted.push(count) }, () => now);
  return { memory, evicted, advance: (ms: number) => (now += ms) };
}

describe('the in-memory cache store', () => {
  it('evicts the least recently used entries to stay within its bytes, and counts them', async () => {
    const { memory, evicted } = store(2000);
    await memory.set('a', 'x'.repeat(300), 60_000);
    await memory.set('b', 'x'.repeat(300), 60_000);
    await memory.get('a'); // a is now the newest
    await memory.set('c', 'x'.repeat(300), 60_000);

    expect(await memory.get('b')).toBeNull();
    expect(await memory.get('a')).not.toBeNull();
    expect(await memory.get('c')).not.toBeNull();
    expect(memory.bytes()).toBeLessThanOrEqual(2000);
    expect(evicted).toEqual([1]);
  });

  it('drops an entry once its time to live has passed', async () => {
    const { memory, advance } = store(10_000);
    await memory.set('a', 'answer', 1000);
    advance(999);
    expect(await memory.get('a')).toBe('answer');
    advance(1);
    expect(await memory.get('a')).toBeNull();
    expect(memory.bytes()).toBe(0);
  });

  it('does not store a value larger than its whole budget', async () => {
    const { memory } = store(1000);
    await memory.set('big', 'x'.repeat(1000), 60_000);
    expect(await memory.get('big')).toBeNull();
  });

  it('keeps lists newest first, capped, and counters apart from the LRU', async () => {
    const { memory } = store(100_000);
    for (const item of ['1', '2', '3']) await memory.push('list', item, 2, 60_000);
    await memory.bump('generation');
    await memory.bump('generation');

    expect(await memory.list('list')).toEqual(['3', '2']);
    expect(await memory.counter('generation')).toBe(2);
    expect(await memory.counter('other')).toBe(0);
  });
});
