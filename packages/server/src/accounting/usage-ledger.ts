import type { EndUsage, Savings } from '../generation/events.ts';

/** What a key used of one model (or of all models, in `totals`) since the gateway started. */
export interface UsageTotals {
  /** Streams that ended with an `end` event; failed and abandoned ones are not counted. */
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** The sum of the known costs (provider-reported or catalog-priced). */
  costUsd: number;
  /** Requests whose cost is unknown (no usage from the provider, model not in the catalog): not in costUsd. */
  unpricedRequests: number;
  /** Prompt tokens compression removed (the ML service's GPT tokens). */
  tokensSaved: number;
  /** Those tokens at the answering models' input prices, where the catalog has one. */
  usdSaved: number;
}

export interface ModelUsage extends UsageTotals {
  provider: string;
  model: string;
}

/** What an `end` event says about the request, as the ledger records it. */
export interface AnsweredRequest {
  provider?: string | undefined;
  model?: string | undefined;
  usage?: EndUsage | null | undefined;
  savings?: Savings | null | undefined;
}

/** The row a key's models go into once the ledger holds `maxEntries` key×model rows. */
export const OTHER = '(other)';
export const DEFAULT_MAX_ENTRIES = 10_000;

const empty = (): UsageTotals => ({
  requests: 0,
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  costUsd: 0,
  unpricedRequests: 0,
  tokensSaved: 0,
  usdSaved: 0,
});

const name = (row: ModelUsage) => `${row.provider}/${row.model}`;
const byName = (a: ModelUsage, b: ModelUsage) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);

function add(into: UsageTotals, from: UsageTotals) {
  for (const field of Object.keys(into) as Array<keyof UsageTotals>) into[field] += from[field];
}

/**
 * Per API key and per provider/model, what the gateway's requests used and
 * cost since this instance started. In memory: it restarts at zero with the
 * gateway and each instance counts only its own requests.
 *
 * Bounded: at most `maxEntries` key×model rows. A pair first seen once the
 * ledger is full is folded into the key's `(other)/(other)` row, so every
 * key's totals stay exact and only the per-model split gets coarser. The
 * `(other)` rows are outside the cap; there is at most one per key, and keys
 * are the configured API keys (or "anonymous").
 */
export class UsageLedger {
  readonly since = new Date();
  private readonly keys = new Map<string, Map<string, ModelUsage>>();
  private entries = 0;

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  record(key: string, request: AnsweredRequest) {
    const row = this.rowFor(key, request.provider ?? OTHER, request.model ?? OTHER);
    const { usage, savings } = request;
    row.requests += 1;
    if (usage) {
      row.promptTokens += usage.promptTokens;
      row.completionTokens += usage.completionTokens;
      row.totalTokens += usage.totalTokens;
    }
    if (usage?.costUsd != null) row.costUsd += usage.costUsd;
    else row.unpricedRequests += 1;
    if (savings) {
      row.tokensSaved += savings.tokens;
      row.usdSaved += savings.usd ?? 0;
    }
  }

  /** One key's totals and per-model rows (most requests first); zeros for a key never seen. */
  report(key: string): { key: string; since: string; totals: UsageTotals; byModel: ModelUsage[] } {
    const byModel = [...(this.keys.get(key)?.values() ?? [])]
      .map((row) => ({ ...row }))
      .sort((a, b) => b.requests - a.requests || byName(a, b));
    const totals = empty();
    for (const row of byModel) add(totals, row);
    return { key, since: this.since.toISOString(), totals, byModel };
  }

  private rowFor(key: string, provider: string, model: string): ModelUsage {
    let models = this.keys.get(key);
    if (!models) {
      models = new Map();
      this.keys.set(key, models);
    }
    const id = `${provider}\u0000${model}`;
    const found = models.get(id);
    if (found) return found;
    const full = this.entries >= this.maxEntries;
    const otherId = `${OTHER}\u0000${OTHER}`;
    if (full) {
      const other = models.get(otherId);
      if (other) return other;
    }
    const row: ModelUsage = { provider: full ? OTHER : provider, model: full ? OTHER : model, ...empty() };
    models.set(full ? otherId : id, row);
    if (!full) this.entries += 1;
    return row;
  }
}
