import type { Price } from '../accounting/cost.ts';
import type { Amount } from '../budgets/budget-store.ts';
import { estimateTokens } from '../budgets/worst-case.ts';
import type { CacheHitKind } from '../cache/cache-controls.ts';
import type { EndUsage, Savings } from '../generation/events.ts';
import { type LedgerProcedure, type RequestRow, type Surface, utcDay } from './request-row.ts';

type Ref = { provider: string; model: string };

/** The fields of a stream's events the ledger reads; every event type has `type`. */
export interface ObservedEvent {
  type: string;
  provider?: string;
  model?: string;
  category?: string;
  routing?: string;
  to?: Ref;
  from?: Ref;
  code?: string;
  text?: string;
  argumentsDelta?: string;
  usage?: EndUsage | null;
  savings?: Savings | null;
  finishReason?: string | null;
  cache?: { hit: CacheHitKind } | undefined;
}

const PER_MTOK = 1_000_000;

/**
 * A stream's ledger row, built while its events pass. Per event it only
 * counts characters and notes the first token's time: the row is assembled
 * once, when the stream ends. A stream that ends without the provider's
 * counts (failed, cut, aborted) records what it consumed as estimates: the
 * prompt and the text relayed, when any text came; nothing when none did,
 * as providers do not bill a request that never produced a token.
 */
export class StreamRecord {
  private readonly started = performance.now();
  private firstTokenMs: number | null = null;
  private relayedChars = 0;
  private answering: Ref | null = null;
  private readonly fallbacks: RequestRow['fallbacks'] = [];
  private category: string | null = null;
  private routing: string | null = null;
  private end: ObservedEvent | null = null;
  private cache: CacheHitKind | null = null;

  constructor(
    private readonly base: { id: string; key: string; procedure: LedgerProcedure; surface: Surface; ts: number },
    /** Read when the row is made: the estimate is known only once the stream is admitted. */
    private readonly promptTokens: () => number,
    private readonly priceOf: (ref: Ref) => Price | undefined,
  ) {}

  observe(event: ObservedEvent) {
    switch (event.type) {
      case 'text':
      case 'reasoning':
        this.token(event.text?.length ?? 0);
        return;
      case 'toolCall':
        this.token(event.argumentsDelta?.length ?? 0);
        return;
      case 'metadata':
        if (event.provider && event.model) this.answering = { provider: event.provider, model: event.model };
        this.cache = event.cache?.hit ?? null;
        this.category = event.category ?? null;
        this.routing = event.routing ?? null;
        return;
      case 'fallback':
        if (event.from) this.fallbacks.push({ ...event.from, code: event.code ?? 'UNKNOWN' });
        if (event.to) this.answering = event.to;
        return;
      case 'end':
        this.end = event;
        if (event.provider && event.model) this.answering = { provider: event.provider, model: event.model };
        return;
    }
  }

  /** True once the stream's `end` event passed. */
  get ended() {
    return this.end !== null;
  }

  /** What the request spent, for its budget hold. */
  spent(): Amount {
    const { tokens, cost } = this.consumption();
    return { usd: cost.usd ?? 0, tokens: tokens.prompt + tokens.completion };
  }

  row(outcome: string): RequestRow {
    const { tokens, cost } = this.consumption();
    // A cached answer saved what the original cost; compression saved nothing this time.
    const savings = this.cache ? null : this.end?.savings;
    const original = this.cache && this.end?.usage ? this.end.usage.costUsd : null;
    return {
      ...this.base,
      day: utcDay(this.base.ts),
      category: this.category,
      routing: this.routing,
      provider: this.answering?.provider ?? null,
      model: this.answering?.model ?? null,
      fallbacks: this.fallbacks,
      promptTokens: tokens.prompt,
      completionTokens: tokens.completion,
      tokensSource: tokens.source,
      costUsd: cost.usd,
      costSource: cost.source,
      tokensSaved: savings?.tokens ?? 0,
      usdSaved: savings?.usd ?? 0,
      cache: this.cache,
      cacheSavedUsd: original ?? 0,
      ttftMs: this.firstTokenMs,
      totalMs: performance.now() - this.started,
      outcome,
      finishReason: this.end?.finishReason ?? null,
    };
  }

  private token(chars: number) {
    this.firstTokenMs ??= performance.now() - this.started;
    this.relayedChars += chars;
  }

  private consumption() {
    if (this.cache) {
      // Nothing went upstream: the tokens and cost on the end event are the original request's.
      return { tokens: { prompt: 0, completion: 0, source: null }, cost: { usd: 0, source: null } };
    }
    const usage = this.end?.usage;
    if (usage) {
      return {
        tokens: { prompt: usage.promptTokens, completion: usage.completionTokens, source: 'provider' as const },
        cost: { usd: usage.costUsd, source: usage.costSource },
      };
    }
    if (this.firstTokenMs === null) {
      return { tokens: { prompt: 0, completion: 0, source: null }, cost: { usd: 0, source: null } };
    }
    const prompt = this.promptTokens();
    const completion = estimateTokens(this.relayedChars);
    const price = this.answering ? this.priceOf(this.answering) : undefined;
    const usd = price ? (prompt * price.inputPerMTok + completion * price.outputPerMTok) / PER_MTOK : null;
    return {
      tokens: { prompt, completion, source: 'estimated' as const },
      cost: { usd, source: usd === null ? null : ('estimated' as const) },
    };
  }
}
