import { randomUUID } from 'node:crypto';
import { type RequestRow, type Surface, utcDay } from './request-row.ts';

type MlResult = { topCategory?: string; originTokens?: number; compressedTokens?: number };

/**
 * The row of a classify or compress call. They run on the gateway's own ML
 * service: no provider tokens and no cost, but the category found, the
 * tokens compression removed, the time taken and the outcome are logged.
 */
export function mlRow(call: {
  procedure: 'classify' | 'compress';
  key: string;
  surface: Surface;
  ts: number;
  totalMs: number;
  outcome: string;
  result: unknown;
}): RequestRow {
  const result = (call.result ?? {}) as MlResult;
  const saved =
    result.originTokens !== undefined && result.compressedTokens !== undefined
      ? result.originTokens - result.compressedTokens
      : 0;
  return {
    id: randomUUID(),
    ts: call.ts,
    day: utcDay(call.ts),
    key: call.key,
    procedure: call.procedure,
    surface: call.surface,
    category: result.topCategory ?? null,
    routing: null,
    // The ML service's model is a file path on the server: the ledger names the service and the call instead.
    provider: 'tokenflow-ml',
    model: call.procedure,
    fallbacks: [],
    cache: null,
    cacheSavedUsd: 0,
    // The ML service's tokens are free and counted apart (tokensSaved): provider token totals stay provider tokens.
    promptTokens: 0,
    completionTokens: 0,
    tokensSource: null,
    costUsd: 0,
    costSource: null,
    tokensSaved: saved,
    usdSaved: 0,
    ttftMs: null,
    totalMs: call.totalMs,
    outcome: call.outcome,
    finishReason: null,
  };
}
