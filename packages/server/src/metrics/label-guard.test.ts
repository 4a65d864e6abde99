import { describe, expect, it } from 'vitest';
import { LabelGuard, OVERFLOW_LABEL } from './label-guard.ts';

describe('LabelGuard', () => {
  it('passes the first `limit` distinct values through and reports later newcomers as "other"', () => {
    const guard = new LabelGuard(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map((value) => guard.label(value))).toEqual([
      'a',
      'b',
      OVERFLOW_LABEL,
      'a',
      OVERFLOW_LABEL,
      'b',
    ]);
    expect(guard.size).toBe(2);
  });

  it('always passes known values (the catalog) without using up the cap', () => {
    const guard = new LabelGuard(1, ['catalog-model']);
    expect(guard.label('custom-1')).toBe('custom-1');
    expect(guard.label('catalog-model')).toBe('catalog-model');
    expect(guard.label('custom-2')).toBe(OVERFLOW_LABEL);
  });

  it('keeps the number of distinct labels at limit + known + 2 whatever callers send', () => {
    const guard = new LabelGuard(200, ['known']);
    const labels = new Set<string>();
    for (let i = 0; i < 5000; i++) labels.add(guard.label(`model-${i}`));
    labels.add(guard.label('known'));
    labels.add(guard.label(''));
    expect(labels.size).toBe(200 + 1 + 1 + 1);
    expect(labels.has(OVERFLOW_LABEL)).toBe(true);
  });

  it('names missing values "unknown" and overlong ones "other"', () => {
    const guard = new LabelGuard(10);
    expect(guard.label(undefined)).toBe('unknown');
    expect(guard.label('')).toBe('unknown');
    expect(guard.label('x'.repeat(129))).toBe(OVERFLOW_LABEL);
    expect(guard.size).toBe(0);
  });
});
