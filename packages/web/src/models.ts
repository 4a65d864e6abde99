import type { RouterOutputs } from '@tokenflow/client';

export type Rankings = RouterOutputs['modelRankings'];
type Ranked = Rankings['categories'][string][number];

export interface ModelOption {
  /** `provider/model-id`, as generate's `model` takes it. */
  id: string;
  provider: string;
  model: string;
  available: boolean;
  price: Ranked['price'];
}

/**
 * Every catalog model once, grouped by provider: the default category's
 * ranking first (so the first available option is a sensible default), then
 * the rest by name.
 */
export function modelOptions(rankings: Rankings): Map<string, ModelOption[]> {
  const seen = new Map<string, ModelOption>();
  const ordered = [
    ...(rankings.categories[rankings.defaultCategory] ?? []),
    ...Object.values(rankings.categories)
      .flat()
      .sort((a, b) => `${a.provider}/${a.model}`.localeCompare(`${b.provider}/${b.model}`)),
  ];
  for (const entry of ordered) {
    const id = `${entry.provider}/${entry.model}`;
    if (!seen.has(id)) {
      seen.set(id, {
        id,
        provider: entry.provider,
        model: entry.model,
        available: entry.available,
        price: entry.price,
      });
    }
  }
  const byProvider = new Map<string, ModelOption[]>();
  for (const option of seen.values()) {
    byProvider.set(option.provider, [...(byProvider.get(option.provider) ?? []), option]);
  }
  return byProvider;
}

/** The first model whose provider is configured, in the default category's order. */
export function defaultModel(options: Map<string, ModelOption[]>): string | null {
  const all = [...options.values()].flat();
  return (all.find((option) => option.available) ?? all[0])?.id ?? null;
}
