import { z } from 'zod';
import { LEDGER_PROCEDURES } from './request-row.ts';

const name = z.string().min(1).max(200);
/** An ISO 8601 time with its offset (2026-12-07T09:30:00Z), or a day (2026-12-07: its UTC midnight). */
const time = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error: 'must be an ISO time such as 2026-12-07T09:30:00Z, or a day such as 2026-12-07',
});

export const USAGE_GROUPS = [
  'day',
  'model',
  'category',
  'routing',
  'procedure',
  'outcome',
  'surface',
  'cache',
] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];

/** The filters both the report and the CSV export take. */
const filterShape = {
  from: time.optional(),
  to: time.optional(),
  key: name.optional(),
  /** The answering model's name (as in the catalog), with or without "provider/". */
  model: name.optional(),
  category: name.optional(),
  procedure: z.enum(LEDGER_PROCEDURES).optional(),
};

const forwardInTime = {
  check: (query: { from?: string | undefined; to?: string | undefined }) =>
    !query.from || !query.to || Date.parse(query.from) < Date.parse(query.to),
  params: { path: ['to'], message: 'must be later than from' },
};

/**
 * What the `usage` procedure and GET /api/usage accept. Every field is
 * optional; unknown fields are refused by name. `from` is inclusive, `to`
 * exclusive. A key sees only its own rows: `key`, when given, must be the
 * caller's own name.
 */
export const usageQuerySchema = z
  .strictObject({
    ...filterShape,
    /** Split the totals by these, in this order (e.g. ["day", "model"]). */
    groupBy: z
      .array(z.enum(USAGE_GROUPS))
      .max(3)
      .refine((groups) => new Set(groups).size === groups.length, 'each group may appear once')
      .default([]),
  })
  .refine(forwardInTime.check, forwardInTime.params);

export type UsageQueryInput = z.input<typeof usageQuerySchema>;
export type UsageQuery = z.output<typeof usageQuerySchema>;

/** What the CSV export accepts: the same filters, without groupBy, and a row cap. */
export const usageExportSchema = z
  .strictObject({
    ...filterShape,
    limit: z.coerce.number().int().min(1).max(1_000_000).default(100_000),
  })
  .refine(forwardInTime.check, forwardInTime.params);
export type UsageExport = z.output<typeof usageExportSchema>;

/** Sums over a set of request rows. */
export interface UsageTotals {
  /** Every recorded request, failed and cut ones included. */
  requests: number;
  /** Requests whose outcome was not OK. */
  failed: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** The sum of the known costs (provider-reported, catalog-priced or estimated). */
  costUsd: number;
  /** Requests whose cost is unknown (no usage and no price): not in costUsd. */
  unpricedRequests: number;
  /** Requests whose tokens the gateway estimated (the provider reported none, e.g. a cut stream). */
  estimatedRequests: number;
  tokensSaved: number;
  usdSaved: number;
  /** Requests answered from the response cache, and what their answers cost when first made. */
  cacheHits: number;
  cacheSavedUsd: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** One group's key (the fields named in groupBy) and its totals. */
export interface UsageGroup extends UsageTotals {
  day?: string;
  provider?: string | null;
  model?: string | null;
  category?: string | null;
  routing?: string | null;
  procedure?: string;
  outcome?: string;
  surface?: string;
  /** exact, semantic, or null for answers that were not cached. */
  cache?: string | null;
}

export interface ModelUsage extends UsageTotals {
  provider: string;
  model: string;
}

/** One budget of the caller's key: its limit, what is spent and held by requests in flight, and when it resets. */
export interface BudgetStatus {
  budget: 'usdPerDay' | 'usdPerMonth' | 'tokensPerDay';
  limit: number;
  used: number;
  reserved: number;
  resetsAt: string;
}

export interface UsageReport {
  key: string;
  /** The earliest matching request's time (now when there is none). */
  since: string;
  from: string | null;
  to: string | null;
  totals: UsageTotals;
  /** Time to first token and total time over the matching streams with a first token. */
  latency: { ttftMs: Percentiles | null; totalMs: Percentiles | null };
  /** Per answering model, most requests first ("(none)" for requests no model answered). */
  byModel: ModelUsage[];
  /** Per groupBy, ordered by the group fields. */
  groups: UsageGroup[];
  budgets: BudgetStatus[];
}
