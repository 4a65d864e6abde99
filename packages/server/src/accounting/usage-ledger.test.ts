import { describe, expect, it } from 'vitest';
import type { EndUsage } from '../generation/events.ts';
import { OTHER, UsageLedger } from './usage-ledger.ts';

const usage = (
  promptTokens: number,
  completionTokens: number,
  costUsd: number | null,
  costSource: EndUsage['costSource'] = costUsd === null ? null : 'catalog',
): EndUsage => ({ promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, costUsd, costSource });

const GROQ = { provider: 'groq', model: 'openai/gpt-oss-120b' };
const ROUTER = { provider: 'openrouter', model: 'anthropic/claude' };

describe('UsageLedger', () => {
  it('sums tokens, known costs and savings per key and model, and in all', () => {
    const ledger = new UsageLedger();

    ledger.record('alice', { ...GROQ, usage: usage(100, 50, 0.1) });
    ledger.record('alice', {
      ...GROQ,
      usage: usage(200, 25, 0.2),
      savings: { tokens: 300, usd: 0.03, priceSource: 'catalog' },
    });
    ledger.record('alice', { ...ROUTER, usage: usage(10, 5, 0.7, 'provider') });
    const report = ledger.report('alice');

    expect(report.key).toBe('alice');
    expect(report.byModel).toHaveLength(2);
    expect(report.byModel[0]).toMatchObject({
      ...GROQ,
      requests: 2,
      promptTokens: 300,
      completionTokens: 75,
      totalTokens: 375,
      unpricedRequests: 0,
      tokensSaved: 300,
    });
    expect(report.byModel[0]?.costUsd).toBeCloseTo(0.3, 12);
    expect(report.byModel[0]?.usdSaved).toBeCloseTo(0.03, 12);
    expect(report.totals).toMatchObject({ requests: 3, promptTokens: 310, completionTokens: 80, totalTokens: 390 });
    expect(report.totals.costUsd).toBeCloseTo(1.0, 12);
  });

  it('keeps keys apart: a key sees only its own usage', () => {
    const ledger = new UsageLedger();

    ledger.record('alice', { ...GROQ, usage: usage(100, 50, 0.1) });
    ledger.record('bob', { ...GROQ, usage: usage(7, 3, 0.01) });

    expect(ledger.report('alice').totals).toMatchObject({ requests: 1, totalTokens: 150 });
    expect(ledger.report('bob').totals).toMatchObject({ requests: 1, totalTokens: 10 });
    expect(ledger.report('carol')).toMatchObject({ key: 'carol', byModel: [], totals: { requests: 0, costUsd: 0 } });
  });

  it('counts requests of unknown cost apart instead of adding them as zero', () => {
    const ledger = new UsageLedger();

    ledger.record('alice', { ...GROQ, usage: usage(100, 50, null) });
    ledger.record('alice', { ...GROQ, usage: null });
    ledger.record('alice', { ...GROQ, usage: usage(1, 1, 0.5) });

    expect(ledger.report('alice').totals).toMatchObject({
      requests: 3,
      totalTokens: 152,
      costUsd: 0.5,
      unpricedRequests: 2,
    });
  });

  it('counts saved tokens even when the answering model has no price', () => {
    const ledger = new UsageLedger();

    ledger.record('alice', { ...GROQ, usage: usage(1, 1, 0), savings: { tokens: 40, usd: null, priceSource: null } });

    expect(ledger.report('alice').totals).toMatchObject({ tokensSaved: 40, usdSaved: 0 });
  });

  it('folds key×model pairs past its cap into the key’s (other) row, keeping every total exact', () => {
    const ledger = new UsageLedger(2);

    ledger.record('alice', { provider: 'p', model: 'a', usage: usage(1, 0, 1) });
    ledger.record('alice', { provider: 'p', model: 'b', usage: usage(2, 0, 2) });
    ledger.record('alice', { provider: 'p', model: 'c', usage: usage(4, 0, 4) });
    ledger.record('bob', { provider: 'p', model: 'd', usage: usage(8, 0, 8) });
    ledger.record('alice', { provider: 'p', model: 'e', usage: usage(16, 0, 16) });
    ledger.record('alice', { provider: 'p', model: 'a', usage: usage(32, 0, 32) });

    const alice = ledger.report('alice');
    expect(alice.byModel.map((row) => `${row.provider}/${row.model}:${row.promptTokens}`)).toEqual([
      `${OTHER}/${OTHER}:20`,
      'p/a:33',
      'p/b:2',
    ]);
    expect(alice.totals).toMatchObject({ requests: 5, promptTokens: 55, costUsd: 55 });
    expect(ledger.report('bob').byModel).toEqual([expect.objectContaining({ provider: OTHER, promptTokens: 8 })]);
  });

  it('says since when it counts, as an ISO timestamp', () => {
    const before = Date.now();
    const ledger = new UsageLedger();

    const since = Date.parse(ledger.report('alice').since);

    expect(ledger.report('alice').since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(since).toBeGreaterThanOrEqual(before);
    expect(since).toBeLessThanOrEqual(Date.now());
  });
});
