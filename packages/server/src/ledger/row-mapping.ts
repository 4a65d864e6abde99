import type { Insertable, Selectable } from 'kysely';
import type { LedgerProcedure, RequestRow, Surface } from './request-row.ts';
import type { RequestsTable } from './tables.ts';

// The one place where RequestRow (camelCase) meets the `requests` table (snake_case).

/**
 * A row as the table stores it. Values are coerced to what the columns accept
 * (whole numbers, finite numbers, text without NUL) because one row the
 * database refuses would otherwise fail its whole batch on every retry.
 */
export function tableRowFromRequest(row: RequestRow): Insertable<RequestsTable> {
  return {
    id: text(row.id),
    ts: whole(row.ts),
    day: text(row.day),
    api_key: text(row.key),
    procedure: text(row.procedure),
    surface: text(row.surface),
    category: nullableText(row.category),
    routing: nullableText(row.routing),
    provider: nullableText(row.provider),
    model: nullableText(row.model),
    fallbacks: text(JSON.stringify(row.fallbacks ?? [])),
    prompt_tokens: whole(row.promptTokens),
    completion_tokens: whole(row.completionTokens),
    tokens_source: nullableText(row.tokensSource),
    cost_usd: nullableFinite(row.costUsd),
    cost_source: nullableText(row.costSource),
    tokens_saved: whole(row.tokensSaved),
    usd_saved: nullableFinite(row.usdSaved) ?? 0,
    cache: nullableText(row.cache),
    cache_saved_usd: nullableFinite(row.cacheSavedUsd) ?? 0,
    ttft_ms: row.ttftMs === null || !Number.isFinite(row.ttftMs) ? null : whole(row.ttftMs),
    total_ms: whole(row.totalMs),
    outcome: text(row.outcome),
    finish_reason: nullableText(row.finishReason),
  };
}

/** A stored row as the rest of the gateway sees it. */
export function requestFromTableRow(row: Selectable<RequestsTable>): RequestRow {
  return {
    id: row.id,
    ts: Number(row.ts),
    day: row.day,
    key: row.api_key,
    procedure: row.procedure as LedgerProcedure,
    surface: row.surface as Surface,
    category: row.category,
    routing: row.routing,
    provider: row.provider,
    model: row.model,
    fallbacks: JSON.parse(row.fallbacks) as RequestRow['fallbacks'],
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    tokensSource: row.tokens_source as RequestRow['tokensSource'],
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    costSource: row.cost_source as RequestRow['costSource'],
    tokensSaved: Number(row.tokens_saved),
    usdSaved: Number(row.usd_saved),
    cache: (row.cache ?? null) as RequestRow['cache'],
    cacheSavedUsd: Number(row.cache_saved_usd ?? 0),
    ttftMs: row.ttft_ms === null ? null : Number(row.ttft_ms),
    totalMs: Number(row.total_ms),
    outcome: row.outcome,
    finishReason: row.finish_reason,
  };
}

/** The number of columns one inserted row binds: what limits how many rows one INSERT may carry. */
export const INSERTED_COLUMNS = 24;

// Durations come from performance.now() and may be fractional; the columns are integers.
const whole = (value: number) => (Number.isFinite(value) ? Math.round(value) : 0);
const nullableFinite = (value: number | null) => (value === null || !Number.isFinite(value) ? null : value);
// PostgreSQL refuses NUL in text; SQLite would keep it. Both must store the same thing.
const text = (value: string) => String(value).replaceAll('\u0000', '');
const nullableText = (value: string | null) => (value === null || value === undefined ? null : text(value));
