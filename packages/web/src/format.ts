const usd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 0,
  maximumSignificantDigits: 6,
});
const usdCents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2 });
const usdFraction = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 0,
  maximumSignificantDigits: 3,
});
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Dollars with up to 6 significant digits (costs of one request are often fractions of a cent); null is unknown. */
export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'unknown';
  return usd.format(value);
}

/**
 * Dollars short enough for a chart axis or a table cell: cents from a dollar
 * up, 3 significant digits below (a day of playground traffic is often
 * $0.000123, which cents would show as $0.00).
 */
export function formatUsdShort(value: number): string {
  if (!Number.isFinite(value)) return 'unknown';
  return Math.abs(value) >= 1 ? usdCents.format(value) : usdFraction.format(value);
}

export const formatCount = (value: number): string => integer.format(value);

export const formatTokens = (value: number): string => `${integer.format(value)} ${value === 1 ? 'token' : 'tokens'}`;

/** A 0..1 fraction as a percentage with one decimal. */
export const formatPercent = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;

/** USD per million tokens, as the catalog prices models. */
export const formatPricePerMTok = (value: number): string => `${formatUsd(value)}/M`;

export const formatMs = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A wait as people say it, in its two largest units ("2 d 5 h", "3 h 12 min"); under a minute is "under a minute". */
export function formatDuration(ms: number): string {
  if (ms < MINUTE) return 'under a minute';
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  return `${minutes} min`;
}

const utcTime = new Intl.DateTimeFormat('en-US', {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
});

/** A moment in UTC, the zone budgets reset in: "Dec 8, 00:00 UTC". */
export const formatUtcTime = (iso: string): string => `${utcTime.format(new Date(iso))} UTC`;
