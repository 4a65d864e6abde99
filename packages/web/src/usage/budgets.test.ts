import { describe, expect, it } from 'vitest';
import { budgetView } from './budgets.ts';

const NOW = Date.parse('2026-12-07T18:00:00Z');
const MIDNIGHT = '2026-12-08T00:00:00Z';

describe('budgetView', () => {
  it('shows spent and reserved dollars as parts of the limit, and the time to the reset', () => {
    const view = budgetView({ budget: 'usdPerDay', limit: 2, used: 0.5, reserved: 0.25, resetsAt: MIDNIGHT }, NOW);
    expect(view).toEqual({
      title: 'Spend today',
      usedShare: 0.25,
      reservedShare: 0.125,
      filled: 0.375,
      used: '$0.5',
      reserved: '$0.25',
      limit: '$2',
      exhausted: false,
      resetsInMs: 6 * 3_600_000,
    });
  });

  it('counts a token budget in tokens', () => {
    const view = budgetView(
      { budget: 'tokensPerDay', limit: 10_000, used: 2_500, reserved: 0, resetsAt: MIDNIGHT },
      NOW,
    );
    expect(view).toMatchObject({
      title: 'Tokens today',
      used: '2,500 tokens',
      limit: '10,000 tokens',
      usedShare: 0.25,
    });
  });

  it('never draws the bar past its end, and says when the budget is exhausted', () => {
    const view = budgetView({ budget: 'usdPerMonth', limit: 1, used: 0.9, reserved: 0.3, resetsAt: MIDNIGHT }, NOW);
    expect(view.usedShare).toBe(0.9);
    expect(view.reservedShare).toBeCloseTo(0.1);
    expect(view.exhausted).toBe(true);
    const over = budgetView({ budget: 'usdPerDay', limit: 1, used: 1.5, reserved: 0.1, resetsAt: MIDNIGHT }, NOW);
    expect([over.usedShare, over.reservedShare, over.exhausted]).toEqual([1, 0, true]);
    // The label says by how much: spending may pass the limit by what a request spent beyond its hold.
    expect(over.filled).toBeCloseTo(1.6, 12);
  });

  it('treats a zero limit as exhausted by any spending', () => {
    const view = budgetView({ budget: 'usdPerDay', limit: 0, used: 0.01, reserved: 0, resetsAt: MIDNIGHT }, NOW);
    expect([view.usedShare, view.exhausted]).toEqual([1, true]);
  });
});
