export const TIME_RANGES = [
  { id: '24h', label: '24 hours' },
  { id: '7d', label: '7 days' },
  { id: '30d', label: '30 days' },
] as const;
export type TimeRange = (typeof TIME_RANGES)[number]['id'];

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * Where a range starts, as the usage query's `from` (the range runs to now).
 * 24 hours back to the minute, so a refetch within the minute asks the same
 * query; the longer ranges start at midnight UTC, 6 or 29 days before today,
 * so every day on the chart is a whole day (the ledger's days are UTC days).
 */
export function rangeStart(range: TimeRange, now: number): string {
  if (range === '24h') return new Date(Math.floor((now - DAY) / MINUTE) * MINUTE).toISOString();
  const today = Math.floor(now / DAY) * DAY;
  return new Date(today - (range === '7d' ? 6 : 29) * DAY).toISOString();
}

/** Every UTC day (YYYY-MM-DD) from the one `from` falls in to the one `now` falls in: the chart's days, idle ones too. */
export function utcDaysBetween(from: string, now: number): string[] {
  const days: string[] = [];
  for (let day = Math.floor(Date.parse(from) / DAY) * DAY; day <= now; day += DAY) {
    days.push(new Date(day).toISOString().slice(0, 10));
  }
  return days;
}

/** A YYYY-MM-DD day's midnight UTC in seconds, as uPlot's time axis counts. */
export const dayToSeconds = (day: string): number => Date.parse(`${day}T00:00:00Z`) / 1000;
