import { formatTokens, formatUsd } from '../format.ts';
import type { BudgetStatus } from './report.ts';

const TITLES: Record<BudgetStatus['budget'], string> = {
  usdPerDay: 'Spend today',
  usdPerMonth: 'Spend this month',
  tokensPerDay: 'Tokens today',
};

export interface BudgetView {
  title: string;
  /** The parts (0..1) of the bar: what is spent, and what requests in flight hold; together at most 1. */
  usedShare: number;
  reservedShare: number;
  /** Spent and held over the limit, uncapped: a request may spend past its hold, so this can pass 1. */
  filled: number;
  used: string;
  reserved: string;
  limit: string;
  /** Spent and reserved reach the limit: new requests are refused until the reset. */
  exhausted: boolean;
  resetsInMs: number;
}

/** A budget as its bar shows it. */
export function budgetView(status: BudgetStatus, now: number): BudgetView {
  const format = status.budget === 'tokensPerDay' ? formatTokens : formatUsd;
  const share = (value: number) => (status.limit > 0 ? value / status.limit : value > 0 ? 1 : 0);
  const usedShare = Math.min(1, share(status.used));
  return {
    title: TITLES[status.budget],
    usedShare,
    reservedShare: Math.min(1 - usedShare, share(status.reserved)),
    filled: share(status.used + status.reserved),
    used: format(status.used),
    reserved: format(status.reserved),
    limit: format(status.limit),
    exhausted: status.used + status.reserved >= status.limit,
    resetsInMs: Date.parse(status.resetsAt) - now,
  };
}
