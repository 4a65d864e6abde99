import { modelLabel } from './labels.ts';
import type { UsageGroup } from './report.ts';

export interface SpendSeries {
  days: string[];
  /** One line per model, biggest spender first: its USD on each of `days`. */
  models: Array<{ label: string; usd: number[]; totalUsd: number }>;
}

/**
 * Spend per day and model (the groups of groupBy ['day', 'model']) as a
 * chart draws it: a value for every day, zero where the model was not used.
 * Beyond `maxLines` models the smaller spenders are summed as one line, so
 * the legend still fits a phone.
 */
export function spendSeries(groups: readonly UsageGroup[], days: readonly string[], maxLines = 5): SpendSeries {
  // Days outside the range asked for (a clock skew between browser and gateway) still get a place.
  const allDays = [...new Set([...days, ...groups.flatMap((group) => (group.day ? [group.day] : []))])].sort();
  const dayIndex = new Map(allDays.map((day, index) => [day, index]));
  const byModel = new Map<string, number[]>();
  for (const group of groups) {
    const index = group.day === undefined ? undefined : dayIndex.get(group.day);
    if (index === undefined) continue;
    const label = modelLabel(group);
    const usd = byModel.get(label) ?? allDays.map(() => 0);
    usd[index] = (usd[index] ?? 0) + group.costUsd;
    byModel.set(label, usd);
  }
  const models = [...byModel]
    .map(([label, usd]) => ({ label, usd, totalUsd: usd.reduce((sum, value) => sum + value, 0) }))
    .sort((a, b) => b.totalUsd - a.totalUsd || a.label.localeCompare(b.label));
  if (models.length <= maxLines) return { days: allDays, models };

  const kept = models.slice(0, maxLines - 1);
  const rest = models.slice(maxLines - 1);
  const other = {
    label: `${rest.length} other models`,
    usd: allDays.map((_, index) => rest.reduce((sum, model) => sum + (model.usd[index] ?? 0), 0)),
    totalUsd: rest.reduce((sum, model) => sum + model.totalUsd, 0),
  };
  return { days: allDays, models: [...kept, other] };
}
