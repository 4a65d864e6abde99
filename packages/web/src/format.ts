const usd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 0,
  maximumSignificantDigits: 6,
});
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Dollars with up to 6 significant digits (costs of one request are often fractions of a cent); null is unknown. */
export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'unknown';
  return usd.format(value);
}

export const formatTokens = (value: number): string => `${integer.format(value)} ${value === 1 ? 'token' : 'tokens'}`;

/** A 0..1 fraction as a percentage with one decimal. */
export const formatPercent = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;

/** USD per million tokens, as the catalog prices models. */
export const formatPricePerMTok = (value: number): string => `${formatUsd(value)}/M`;

export const formatMs = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);
