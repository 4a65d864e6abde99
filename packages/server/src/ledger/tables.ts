import type { Generated } from 'kysely';

/**
 * The ledger's tables as Kysely sees them, the same in SQLite and PostgreSQL.
 * Columns are snake_case; migrations.ts creates them. Times are integer
 * milliseconds and days are YYYY-MM-DD text so both databases group and
 * compare them the same way.
 */
export interface LedgerTables {
  requests: RequestsTable;
  budget_spend: BudgetSpendTable;
  budget_holds: BudgetHoldsTable;
}

export interface RequestsTable {
  seq: Generated<number>;
  id: string;
  ts: number;
  day: string;
  api_key: string;
  procedure: string;
  surface: string;
  category: string | null;
  routing: string | null;
  provider: string | null;
  model: string | null;
  /** JSON array of { provider, model, code }. */
  fallbacks: string;
  prompt_tokens: number;
  completion_tokens: number;
  tokens_source: string | null;
  cost_usd: number | null;
  cost_source: string | null;
  tokens_saved: number;
  usd_saved: number;
  /** Added by migration 005; null on older rows. */
  cache: string | null;
  cache_saved_usd: number;
  ttft_ms: number | null;
  total_ms: number;
  outcome: string;
  finish_reason: string | null;
}

/**
 * What a key has spent in one budget period: `period` is "day" (period_start
 * YYYY-MM-DD) or "month" (YYYY-MM). One row per key × period; every instance
 * updates the same row.
 */
export interface BudgetSpendTable {
  api_key: string;
  period: string;
  period_start: string;
  spent_usd: number;
  spent_tokens: number;
}

/**
 * One request in flight: the worst-case cost it holds against its key's
 * budgets for the day and month it started in, until it settles (the row is
 * deleted and its actual cost added to budget_spend) or expires (a gateway
 * that died mid-stream never settles: its holds stop counting at expires_at).
 */
export interface BudgetHoldsTable {
  id: string;
  api_key: string;
  day: string;
  month: string;
  usd: number;
  tokens: number;
  /** Milliseconds since the epoch. */
  expires_at: number;
}
