import type { CacheHitKind } from '../cache/cache-controls.ts';

/**
 * One row of the request log: what one call to the gateway asked, who
 * answered, what it used and cost, how long it took and how it ended. Written
 * for every surface (generate, selectModel, classify, compress; over tRPC,
 * REST and /v1), failed and cut streams included.
 */
export interface RequestRow {
  /** The request id (the stream's metadata requestId; a new UUID for queries and mutations). */
  id: string;
  /** When the request started, milliseconds since the epoch. */
  ts: number;
  /** The UTC day of `ts`, YYYY-MM-DD: what budgets and the by-day group count in. */
  day: string;
  /** The API key's name ("anonymous" when auth is off); never the key itself. */
  key: string;
  procedure: LedgerProcedure;
  /** How the call came in. */
  surface: Surface;
  /** selectModel only: the category routed on, and why that ranking was used. */
  category: string | null;
  routing: string | null;
  /** The model that answered (after any fallback), or the last one tried when none did. */
  provider: string | null;
  model: string | null;
  /** The candidates that failed before `model`, in order. */
  fallbacks: Array<{ provider: string; model: string; code: string }>;
  promptTokens: number;
  completionTokens: number;
  /** `provider` when the provider reported the counts, `estimated` when the gateway counted characters. */
  tokensSource: 'provider' | 'estimated' | null;
  costUsd: number | null;
  /** provider-reported, catalog price times tokens, or the catalog price times estimated tokens. */
  costSource: 'provider' | 'catalog' | 'estimated' | null;
  /** Prompt tokens compression removed, and those tokens at the answering model's input price. */
  tokensSaved: number;
  usdSaved: number;
  /** `exact` or `semantic` when the answer came from the response cache (then nothing was spent). */
  cache: CacheHitKind | null;
  /** What the cached answer cost when it was first made: what this request did not spend. */
  cacheSavedUsd: number;
  /** Milliseconds from the request to its first text, reasoning or tool-call event; null when none came. */
  ttftMs: number | null;
  totalMs: number;
  /** OK, or the error code the caller saw (CLIENT_CLOSED_REQUEST when the caller went away). */
  outcome: string;
  finishReason: string | null;
}

export const LEDGER_PROCEDURES = ['generate', 'selectModel', 'classify', 'compress'] as const;
export type LedgerProcedure = (typeof LEDGER_PROCEDURES)[number];

export const SURFACES = ['ws', 'http', 'rest', 'v1'] as const;
export type Surface = (typeof SURFACES)[number];

/** The UTC day (YYYY-MM-DD) of a time in milliseconds. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
