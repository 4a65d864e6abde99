import type { UsageTotals } from './report.ts';

export interface BreakdownRow {
  label: string;
  requests: number;
  failed: number;
  totalTokens: number;
  costUsd: number;
  /** This row's part (0..1) of all rows' `by`. */
  share: number;
}

/**
 * Rows of totals (per model, category, routing reason, ...) under their
 * labels, largest `by` first. Rows that end up with the same label are summed
 * (a null and a "(none)" model are both "no model").
 */
export function breakdown<Row extends UsageTotals>(
  rows: readonly Row[],
  labelOf: (row: Row) => string,
  by: 'costUsd' | 'requests',
): BreakdownRow[] {
  const byLabel = new Map<string, BreakdownRow>();
  for (const row of rows) {
    const label = labelOf(row);
    const sum = byLabel.get(label) ?? { label, requests: 0, failed: 0, totalTokens: 0, costUsd: 0, share: 0 };
    sum.requests += row.requests;
    sum.failed += row.failed;
    sum.totalTokens += row.totalTokens;
    sum.costUsd += row.costUsd;
    byLabel.set(label, sum);
  }
  const result = [...byLabel.values()];
  const total = result.reduce((sum, row) => sum + row[by], 0);
  for (const row of result) row.share = total > 0 ? row[by] / total : 0;
  return result.sort((a, b) => b[by] - a[by] || b.requests - a.requests || a.label.localeCompare(b.label));
}
