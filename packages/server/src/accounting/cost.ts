import type { EndUsage, Savings, Usage } from '../generation/events.ts';
import type { CatalogModel } from '../routing/catalog.ts';

export type Price = CatalogModel['price'];

const PER_MTOK = 1_000_000;

/**
 * The usage an `end` event reports: the provider's cost when it sent one (it
 * knows discounts and cached tokens we cannot see), else the catalog price
 * times the tokens, else null. Never rounded: callers sum these.
 */
export function costUsage(usage: Usage | null, price: Price | undefined): EndUsage | null {
  if (!usage) return null;
  if (usage.costUsd !== null) return { ...usage, costSource: 'provider' };
  if (!price) return { ...usage, costUsd: null, costSource: null };
  const costUsd = (usage.promptTokens * price.inputPerMTok + usage.completionTokens * price.outputPerMTok) / PER_MTOK;
  return { ...usage, costUsd, costSource: 'catalog' };
}

/**
 * What compression saved, priced at the answering model's input price: the
 * tokens it removed would have been input tokens of that model. The counts
 * are the ML service's GPT tokens, so the money is an estimate for models
 * with another tokenizer.
 */
export function compressionSavings(
  compression: { originTokens: number; compressedTokens: number } | null,
  price: Price | undefined,
): Savings | null {
  if (!compression) return null;
  const tokens = compression.originTokens - compression.compressedTokens;
  if (!price) return { tokens, usd: null, priceSource: null };
  return { tokens, usd: (tokens * price.inputPerMTok) / PER_MTOK, priceSource: 'catalog' };
}
