import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { group } from '../../usage/test-rows.ts';
import { BudgetBars } from './BudgetBars.tsx';
import { LatencyTable } from './LatencyTable.tsx';
import { UsageTotals } from './UsageTotals.tsx';

const NOW = Date.parse('2026-12-07T18:00:00Z');
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('UsageTotals', () => {
  it('shows requests, failures, tokens, cost, estimated requests, savings and cache hits', () => {
    const totals = group({
      requests: 12,
      failed: 3,
      promptTokens: 1000,
      completionTokens: 234,
      totalTokens: 1234,
      costUsd: 0.000123,
      estimatedRequests: 1,
      tokensSaved: 40,
      usdSaved: 0.00002,
      cacheHits: 2,
      cacheSavedUsd: 0.0004,
    });

    const shown = text(renderToStaticMarkup(<UsageTotals totals={totals} />));

    expect(shown).toContain('Requests 12');
    expect(shown).toContain('Failed 3 25% of requests');
    expect(shown).toContain('Tokens 1,234 1,000 in, 234 out');
    expect(shown).toContain('Cost $0.000123');
    expect(shown).toContain('Estimated tokens 1 request');
    expect(shown).toContain('Compression saved 40 tokens $0.00002');
    expect(shown).toContain('Answered from cache 2 requests $0.0004 not spent');
  });

  it('mentions unpriced requests, which the cost leaves out', () => {
    const shown = text(renderToStaticMarkup(<UsageTotals totals={group({ requests: 2, unpricedRequests: 2 })} />));
    expect(shown).toContain('plus 2 unpriced requests');
  });
});

describe('BudgetBars', () => {
  it('says so when the key has no budget', () => {
    const shown = text(renderToStaticMarkup(<BudgetBars keyName="web" budgets={[]} now={NOW} />));
    expect(shown).toContain('No budget is set for the key web');
  });

  it('shows spent and reserved against the limit, the reset, and when the budget is exhausted', () => {
    const budgets = [
      { budget: 'usdPerDay', limit: 1, used: 0.75, reserved: 0.25, resetsAt: '2026-12-08T00:00:00Z' },
    ] as const;

    const html = renderToStaticMarkup(<BudgetBars keyName="web" budgets={[...budgets]} now={NOW} />);

    expect(text(html)).toContain('Spend today 100.0% of $1');
    expect(text(html)).toContain(
      '$0.75 spent + $0.25 reserved by requests in flight; resets in 6 h (Dec 8, 00:00 UTC)',
    );
    expect(text(html)).toContain('Exhausted');
    expect(html).toContain('inline-size:75%');
    expect(html).toContain('inline-size:25%');
  });
});

describe('LatencyTable', () => {
  it('shows the percentiles it has, and a line when no stream was answered', () => {
    const shown = text(
      renderToStaticMarkup(<LatencyTable latency={{ ttftMs: { p50: 120, p95: 480, p99: 1500 }, totalMs: null }} />),
    );
    expect(shown).toContain('Time to first token 120 ms 480 ms 1.50 s');
    expect(shown).not.toContain('Total time');

    const none = text(renderToStaticMarkup(<LatencyTable latency={{ ttftMs: null, totalMs: null }} />));
    expect(none).toContain('No answered streams in this range.');
  });
});
