import { type Kysely, sql } from 'kysely';
import type { RequestRow } from './request-row.ts';
import { requestFromTableRow } from './row-mapping.ts';
import type { LedgerTables } from './tables.ts';
import type {
  ModelUsage,
  Percentiles,
  UsageExport,
  UsageGroup,
  UsageGroupBy,
  UsageQuery,
  UsageReport,
  UsageTotals,
} from './usage-query.ts';

/** The filters the report and the export share. */
export type UsageFilters = Pick<UsageQuery, 'from' | 'to' | 'model' | 'category' | 'procedure'>;

/** The provider and model shown for requests no model answered. */
export const NO_MODEL = '(none)';

/**
 * `key`'s rows that match the filters. The key is a separate argument, never
 * read from the query, so no caller can forget it: every read starts here.
 */
function matching(db: Kysely<LedgerTables>, key: string, filters: UsageFilters) {
  let query = db.selectFrom('requests').where('api_key', '=', key);
  if (filters.from) query = query.where('ts', '>=', Date.parse(filters.from));
  if (filters.to) query = query.where('ts', '<', Date.parse(filters.to));
  const { model } = filters;
  // Model names may themselves hold a slash (org/model): match either the name or provider/name.
  if (model)
    query = query.where((eb) => eb.or([eb('model', '=', model), eb(sql`provider || '/' || model`, '=', model)]));
  if (filters.category) query = query.where('category', '=', filters.category);
  if (filters.procedure) query = query.where('procedure', '=', filters.procedure);
  return query;
}

// Plain SQL both databases read the same way; sums over no rows are NULL, read as 0.
const TOTALS = [
  sql<number>`count(*)`.as('requests'),
  sql<number | null>`sum(case when outcome <> 'OK' then 1 else 0 end)`.as('failed'),
  sql<number | null>`sum(prompt_tokens)`.as('prompt_tokens'),
  sql<number | null>`sum(completion_tokens)`.as('completion_tokens'),
  sql<number | null>`sum(cost_usd)`.as('cost_usd'),
  sql<number | null>`sum(case when cost_usd is null then 1 else 0 end)`.as('unpriced'),
  sql<number | null>`sum(case when tokens_source = 'estimated' then 1 else 0 end)`.as('estimated'),
  sql<number | null>`sum(tokens_saved)`.as('tokens_saved'),
  sql<number | null>`sum(usd_saved)`.as('usd_saved'),
  sql<number | null>`sum(case when cache is not null then 1 else 0 end)`.as('cache_hits'),
  sql<number | null>`sum(cache_saved_usd)`.as('cache_saved_usd'),
] as const;

type TotalsRow = {
  requests: number;
  failed: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  unpriced: number | null;
  estimated: number | null;
  tokens_saved: number | null;
  usd_saved: number | null;
  cache_hits: number | null;
  cache_saved_usd: number | null;
};

function totalsOf(row: TotalsRow): UsageTotals {
  const promptTokens = Number(row.prompt_tokens ?? 0);
  const completionTokens = Number(row.completion_tokens ?? 0);
  return {
    requests: Number(row.requests),
    failed: Number(row.failed ?? 0),
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    costUsd: Number(row.cost_usd ?? 0),
    unpricedRequests: Number(row.unpriced ?? 0),
    estimatedRequests: Number(row.estimated ?? 0),
    tokensSaved: Number(row.tokens_saved ?? 0),
    usdSaved: Number(row.usd_saved ?? 0),
    cacheHits: Number(row.cache_hits ?? 0),
    cacheSavedUsd: Number(row.cache_saved_usd ?? 0),
  };
}

/** The caller's report: totals, per model, per groupBy and latency percentiles over the matching rows. */
export async function queryUsage(
  db: Kysely<LedgerTables>,
  key: string,
  query: UsageQuery,
): Promise<Omit<UsageReport, 'budgets'>> {
  const rows = matching(db, key, query);
  const overall = await rows
    .select([
      ...TOTALS,
      sql<number | null>`min(ts)`.as('first_ts'),
      sql<number | null>`sum(case when ttft_ms is not null then 1 else 0 end)`.as('timed'),
    ])
    .executeTakeFirstOrThrow();
  const timed = Number(overall.timed ?? 0);
  // One query at a time: in parallel, a single report took up to 8 of PostgreSQL's pooled connections
  // (and queued SQLite's reader), so a few dashboards at once starved the writer and budget holds.
  const byModel = await modelUsage(rows);
  const groups = await groupUsage(rows, query.groupBy);
  const ttftMs = await percentiles(rows, 'ttft_ms', timed);
  const totalMs = await percentiles(rows, 'total_ms', timed);
  return {
    key,
    since: new Date(overall.first_ts === null ? Date.now() : Number(overall.first_ts)).toISOString(),
    from: query.from ?? null,
    to: query.to ?? null,
    totals: totalsOf(overall),
    latency: { ttftMs, totalMs },
    byModel,
    groups,
  };
}

type Rows = ReturnType<typeof matching>;

async function modelUsage(rows: Rows): Promise<ModelUsage[]> {
  const found = await rows
    .select(['provider', 'model', ...TOTALS])
    .groupBy(['provider', 'model'])
    .execute();
  // Requests no model answered share one row, whichever provider was tried last.
  const merged = new Map<string, ModelUsage>();
  for (const row of found) {
    const provider = row.model === null ? NO_MODEL : (row.provider ?? NO_MODEL);
    const model = row.model ?? NO_MODEL;
    const name = `${provider}/${model}`;
    const totals = totalsOf(row);
    const into = merged.get(name);
    if (!into) merged.set(name, { provider, model, ...totals });
    else for (const field of Object.keys(totals) as Array<keyof UsageTotals>) into[field] += totals[field];
  }
  return [...merged.values()].sort(
    (a, b) => b.requests - a.requests || compareText(a.provider, b.provider) || compareText(a.model, b.model),
  );
}

const GROUP_COLUMNS = {
  day: ['day'],
  model: ['provider', 'model'],
  category: ['category'],
  routing: ['routing'],
  procedure: ['procedure'],
  outcome: ['outcome'],
  surface: ['surface'],
  cache: ['cache'],
} as const satisfies Record<UsageGroupBy, readonly string[]>;

type GroupColumn = (typeof GROUP_COLUMNS)[UsageGroupBy][number];

async function groupUsage(rows: Rows, groupBy: UsageGroupBy[]): Promise<UsageGroup[]> {
  if (groupBy.length === 0) return [];
  const columns: GroupColumn[] = groupBy.flatMap((group) => GROUP_COLUMNS[group]);
  const found = await rows
    .select([...columns, ...TOTALS])
    .groupBy(columns)
    .execute();
  const groups = found.map((row) => {
    const group: UsageGroup = totalsOf(row);
    const at = row as Record<GroupColumn, string | null>;
    for (const column of columns) Object.assign(group, { [column]: at[column] });
    return group;
  });
  // Sorted here, not in SQL: PostgreSQL orders text by its locale and NULLs last, SQLite by bytes
  // and NULLs first; the report must not depend on which database holds the rows.
  return groups.sort((a, b) => {
    for (const column of columns) {
      const order = compareText(a[column] ?? null, b[column] ?? null);
      if (order !== 0) return order;
    }
    return 0;
  });
}

/** Code-point order, null last. */
function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * Exact nearest-rank percentiles over the rows with a first token: one
 * ORDER BY … LIMIT 1 OFFSET k per percentile, which reads the same on both
 * databases (PostgreSQL's percentile_disc has no SQLite counterpart).
 */
async function percentiles(rows: Rows, column: 'ttft_ms' | 'total_ms', count: number): Promise<Percentiles | null> {
  if (count === 0) return null;
  const at = async (p: number) => {
    const found = await rows
      .select(column)
      .where('ttft_ms', 'is not', null)
      .orderBy(column)
      .limit(1)
      .offset(Math.max(0, Math.ceil(p * count) - 1))
      .executeTakeFirst();
    return Number(found?.[column] ?? 0);
  };
  return { p50: await at(0.5), p95: await at(0.95), p99: await at(0.99) };
}

/**
 * The caller's matching rows in the order they were written, read a page at
 * a time so that an export of a million rows never holds them all.
 */
export async function* exportUsageRows(
  db: Kysely<LedgerTables>,
  key: string,
  query: UsageExport,
  options: { pageSize?: number } = {},
): AsyncGenerator<RequestRow> {
  const pageSize = options.pageSize ?? 1_000;
  let remaining = query.limit;
  let after = 0;
  while (remaining > 0) {
    const size = Math.min(pageSize, remaining);
    const page = await matching(db, key, query)
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(size)
      .execute();
    for (const row of page) yield requestFromTableRow(row);
    const last = page.at(-1);
    if (!last || page.length < size) return;
    after = Number(last.seq);
    remaining -= page.length;
  }
}
