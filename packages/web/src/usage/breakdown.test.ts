import { describe, expect, it } from 'vitest';
import { breakdown } from './breakdown.ts';
import { categoryLabel, modelLabel, routingLabel } from './labels.ts';
import { group } from './test-rows.ts';

describe('breakdown', () => {
  it('orders rows by cost, the most expensive first, with each one’s share of the cost', () => {
    const rows = breakdown(
      [
        group({ provider: 'groq', model: 'small', requests: 8, costUsd: 0.001 }),
        group({ provider: 'groq', model: 'large', requests: 2, costUsd: 0.003 }),
      ],
      modelLabel,
      'costUsd',
    );
    expect(rows.map((row) => [row.label, row.requests, row.share])).toEqual([
      ['groq/large', 2, 0.75],
      ['groq/small', 8, 0.25],
    ]);
  });

  it('shares requests when asked to, and breaks ties by requests, then by name', () => {
    const rows = breakdown(
      [
        group({ routing: 'low-confidence', requests: 1 }),
        group({ routing: 'classified', requests: 3 }),
        group({ routing: 'tools', requests: 1 }),
      ],
      routingLabel,
      'requests',
    );
    expect(rows.map((row) => [row.label, row.share])).toEqual([
      ['classified', 0.6],
      ['low-confidence', 0.2],
      ['tools', 0.2],
    ]);
  });

  it('sums rows that get the same label, such as a missing model and "(none)"', () => {
    const rows = breakdown(
      [group({ model: null, requests: 1, failed: 1 }), group({ provider: 'groq', model: '(none)', requests: 2 })],
      modelLabel,
      'costUsd',
    );
    expect(rows).toEqual([{ label: 'no model', requests: 3, failed: 1, totalTokens: 0, costUsd: 0, share: 0 }]);
  });

  it('gives every row a zero share when nothing was spent, instead of dividing by zero', () => {
    const rows = breakdown([group({ category: null, requests: 4 })], categoryLabel, 'costUsd');
    expect(rows).toMatchObject([{ label: 'not classified', requests: 4, share: 0 }]);
  });

  it('is empty for no rows', () => {
    expect(breakdown([], categoryLabel, 'requests')).toEqual([]);
  });
});
