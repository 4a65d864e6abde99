/** The UTC day and month a time falls in, and when each ends: budgets reset at UTC midnight and on the 1st. */
export interface Periods {
  day: string;
  month: string;
  dayEndsAt: number;
  monthEndsAt: number;
}

export function periodsAt(ms: number): Periods {
  const now = new Date(ms);
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  const iso = now.toISOString();
  return {
    day: iso.slice(0, 10),
    month: iso.slice(0, 7),
    dayEndsAt: Date.UTC(y, m, d + 1),
    monthEndsAt: Date.UTC(y, m + 1, 1),
  };
}
