import { describe, expect, it } from 'vitest';
import { RowQueue } from './row-queue.ts';

const filled = (items: number[]) => {
  const queue = new RowQueue<number>();
  for (const item of items) queue.push(item);
  return queue;
};
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('the row queue', () => {
  it('hands items out first in, first out, across growth and wrap-around', () => {
    const queue = filled(range(0, 10));
    queue.take(7);
    for (const item of range(10, 40)) queue.push(item);

    expect(queue.take(100)).toEqual(range(7, 40));
    expect(queue.length).toBe(0);
  });

  it('drops from the front, the oldest first', () => {
    const queue = filled(range(0, 5));

    expect(queue.drop(3)).toBe(3);
    expect(queue.drop(10)).toBe(2);
    expect(queue.peek()).toBeUndefined();
  });

  it('puts a taken batch back at the front in its order', () => {
    const queue = filled(range(0, 20));
    const batch = queue.take(15);
    queue.push(20);

    queue.unshiftAll(batch);

    expect(queue.peek()).toBe(0);
    expect(queue.take(100)).toEqual(range(0, 21));
  });
});
