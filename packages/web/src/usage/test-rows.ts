import type { UsageGroup, UsageTotals } from './report.ts';

/** A group as the gateway reports it, all counts zero but those given: for tests. */
export function group(fields: Partial<UsageGroup>): UsageGroup {
  const zero: UsageTotals = {
    requests: 0,
    failed: 0,
    promptTokens: 0,
    completionTokens: 0,
    totalTokens: 0,
    costUsd: 0,
    unpricedRequests: 0,
    estimatedRequests: 0,
    tokensSaved: 0,
    usdSaved: 0,
    cacheHits: 0,
    cacheSavedUsd: 0,
  };
  return { ...zero, ...fields };
}
