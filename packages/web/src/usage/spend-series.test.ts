import { describe, expect, it } from 'vitest';
import { spendSeries } from './spend-series.ts';
import { group } from './test-rows.ts';

const DAYS = ['2026-12-05', '2026-12-06', '2026-12-07'];

describe('spendSeries', () => {
  it('gives each model a value for every day, zero on the days it was not used, biggest spender first', () => {
    const series = spendSeries(
      [
        group({ day: '2026-12-05', provider: 'groq', model: 'small', costUsd: 0.001 }),
        group({ day: '2026-12-07', provider: 'groq', model: 'small', costUsd: 0.002 }),
        group({ day: '2026-12-06', provider: 'groq', model: 'large', costUsd: 0.01 }),
      ],
      DAYS,
    );
    expect(series).toEqual({
      days: DAYS,
      models: [
        { label: 'groq/large', usd: [0, 0.01, 0], totalUsd: 0.01 },
        { label: 'groq/small', usd: [0.001, 0, 0.002], totalUsd: 0.003 },
      ],
    });
  });

  it('has the days and no lines when there were no requests', () => {
    expect(spendSeries([], DAYS)).toEqual({ days: DAYS, models: [] });
  });

  it('adds a day the gateway reports outside the asked range, in order', () => {
    const series = spendSeries([group({ day: '2026-12-08', model: 'm', costUsd: 1 })], DAYS);
    expect(series.days).toEqual([...DAYS, '2026-12-08']);
    expect(series.models[0]?.usd).toEqual([0, 0, 0, 1]);
  });

  it('sums the smaller spenders into one line beyond the line limit', () => {
    const groups = [5, 4, 3, 2, 1].map((usd) => group({ day: '2026-12-07', model: `m${usd}`, costUsd: usd }));
    const series = spendSeries(groups, DAYS, 3);
    expect(series.models.map((model) => [model.label, model.totalUsd])).toEqual([
      ['m5', 5],
      ['m4', 4],
      ['3 other models', 6],
    ]);
    expect(series.models[2]?.usd).toEqual([0, 0, 6]);
  });
});
