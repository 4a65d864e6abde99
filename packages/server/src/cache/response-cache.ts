import type { GenerateEvent, SelectModelEvent } from '../generation/events.ts';
import type { GenerateInput, SelectModelInput } from '../generation/input.ts';
import { type CacheControls, type CacheHit, type CacheMode, cacheAccess } from './cache-controls.ts';
import type { CacheStore } from './cache-store.ts';
import { falseHitReason, type GuardReason, specificsOf } from './false-hit-guard.ts';
import { type CachedProcedure, keySpace, type RequestKeys, requestKeys } from './request-key.ts';
import { AnswerRecorder, type StoredAnswer } from './stored-answer.ts';

type End = Extract<GenerateEvent | SelectModelEvent, { type: 'end' }>;

export interface CacheMetricsSink {
  /** `unavailable`: a semantic lookup without an embedding (the classifier failed, is NLI, or the turn is long). */
  lookup(kind: 'exact' | 'semantic', result: 'hit' | 'miss' | 'unavailable'): void;
  stored(bytes: number): void;
  guardRefused(reason: GuardReason): void;
}

export interface ResponseCacheOptions {
  mode: CacheMode;
  store: CacheStore;
  ttlSeconds: number;
  /** The least cosine similarity of a semantic hit, unless a request asks for another. */
  threshold: number;
  /** Semantic entries kept per partition (newest first): what one lookup compares against. */
  partitionEntries: number;
  /** `key`: each API key has its own cache. `gateway`: every key shares one. */
  scope: 'key' | 'gateway';
  metrics: CacheMetricsSink;
  now?: () => number;
}

export interface CacheLookup {
  stored: StoredAnswer;
  hit: CacheHit;
}

/** Semantic candidates above the threshold checked by the guard, closest first, before giving up. */
const MAX_CANDIDATES = 5;

/** The finish reasons of a whole answer. */
const FINISHED = new Set(['stop', 'tool_calls']);

interface SemanticItem {
  /** The exact key of the stored answer. */
  k: string;
  /** The last user turn it answered. */
  t: string;
  /** The model that embedded it: vectors of two models are not comparable. */
  m: string;
  /** Its embedding, float32, base64. */
  e: string;
}

const toBase64 = (vector: number[]) => Buffer.from(new Float32Array(vector).buffer).toString('base64');
const fromBase64 = (text: string) => {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
};

/** Cosine similarity of two unit vectors (the ML service normalises them). */
function cosine(a: Float32Array, b: ArrayLike<number>) {
  if (a.length !== b.length) return 0;
  let dot = 0;
  for (let i = 0; i < a.length; i += 1) dot += (a[i] as number) * (b[i] as number);
  return dot;
}

/**
 * The gateway's response cache: exact hits on the normalised request, and in
 * semantic mode hits on a similar last user turn within the same partition
 * (key, system prompt, tools, earlier turns, options), vetted by the false-hit
 * guard. Built once per gateway; `forRequest` gives one request's view.
 */
export class ResponseCache {
  private readonly now: () => number;
  private readonly prefix: string;

  constructor(private readonly options: ResponseCacheOptions) {
    this.now = options.now ?? Date.now;
    this.prefix = options.store.kind === 'redis' ? 'tokenflow:cache:' : '';
  }

  /** One request's cache, or null when nothing is to be read or written for it. */
  forRequest(procedure: CachedProcedure, apiKey: string, input: GenerateInput | SelectModelInput): RequestCache | null {
    if (this.options.mode === 'off') return null;
    const controls = input.cache ?? {};
    const mode = controls.mode ?? 'read-write';
    if (mode === 'off') return null;
    return new RequestCache(this.options, this.now, {
      procedure,
      space: this.spaceOf(apiKey),
      keys: requestKeys(procedure, input, this.options.mode === 'semantic' && procedure === 'selectModel'),
      controls,
      ...cacheAccess(mode),
    });
  }

  /** Forgets every answer stored for this key (for all keys when the cache is shared), on every instance. */
  async purge(apiKey: string) {
    await this.options.store.bump(`${this.spaceOf(apiKey)}:generation`);
  }

  /** Where a key's entries live: its own space, or the one all keys share (CACHE_SCOPE=gateway). */
  private spaceOf(apiKey: string) {
    return `${this.prefix}{${keySpace(this.options.scope === 'key' ? apiKey : '*')}}`;
  }

  close() {
    return this.options.store.close();
  }
}

interface RequestPlan {
  procedure: CachedProcedure;
  space: string;
  keys: RequestKeys;
  controls: CacheControls;
  reads: boolean;
  writes: boolean;
}

export class RequestCache {
  private generation: Promise<number | null> | null = null;
  /** The classifier's embedding of the last user turn, and its model: what a stored answer is found by later. */
  private embedding: { vector: number[]; model: string } | null = null;

  constructor(
    private readonly options: ResponseCacheOptions,
    private readonly now: () => number,
    private readonly plan: RequestPlan,
  ) {}

  /** True when a similar prompt's answer may serve this request: the classifier should return its embedding. */
  get wantsEmbedding() {
    return (
      this.options.mode === 'semantic' &&
      this.plan.procedure === 'selectModel' &&
      this.plan.keys.partition !== null &&
      (this.plan.reads || this.plan.writes)
    );
  }

  /** The stored answer to exactly this request, if there is one. */
  async exact(): Promise<CacheLookup | null> {
    if (!this.plan.reads) return null;
    const stored = await this.read(this.plan.keys.exact);
    this.options.metrics.lookup('exact', stored ? 'hit' : 'miss');
    return stored && { stored, hit: { hit: 'exact', similarity: 1, ageSeconds: this.age(stored) } };
  }

  /**
   * The stored answer to the closest earlier last user turn in this request's
   * partition, embedded by the same model, when it is at least `threshold`
   * similar and the guard finds no difference (false-hit-guard.ts). Without an
   * embedding (the classifier was unavailable, is NLI, or the turn is longer
   * than the encoder reads whole) there is no semantic lookup.
   */
  async similar(classification: { embedding?: number[] | null | undefined; model: string } | null | undefined) {
    if (!this.wantsEmbedding) return null;
    const embedded = classification?.embedding;
    this.embedding = embedded && classification ? { vector: embedded, model: classification.model } : null;
    const { partition, lastUserText } = this.plan.keys;
    if (!this.plan.reads || partition === null || lastUserText === null) return null;
    if (!this.embedding) {
      this.options.metrics.lookup('semantic', 'unavailable');
      return null;
    }
    const { vector, model } = this.embedding;
    // A request may ask for a stricter threshold than the gateway's, never a looser one.
    const threshold = Math.max(this.plan.controls.threshold ?? 0, this.options.threshold);
    const listKey = await this.key(`p:${partition}`);
    const items = listKey === null ? [] : await this.options.store.list(listKey);
    const candidates = items
      .map((raw) => {
        try {
          const item = JSON.parse(raw) as SemanticItem;
          return item.m === model ? { item, similarity: cosine(fromBase64(item.e), vector) } : null;
        } catch {
          return null;
        }
      })
      .filter((c): c is { item: SemanticItem; similarity: number } => c !== null && c.similarity >= threshold)
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, MAX_CANDIDATES);
    const mine = specificsOf(lastUserText);
    let refused: GuardReason | null = null;
    for (const { item, similarity } of candidates) {
      const reason = item.t === lastUserText ? null : falseHitReason(mine, specificsOf(item.t));
      if (reason) {
        refused ??= reason;
        continue;
      }
      const stored = await this.read(item.k);
      if (!stored) continue;
      this.options.metrics.lookup('semantic', 'hit');
      return { stored, hit: { hit: 'semantic' as const, similarity, ageSeconds: this.age(stored) } };
    }
    // Once per lookup, for the closest candidate the guard turned down.
    if (refused) this.options.metrics.guardRefused(refused);
    this.options.metrics.lookup('semantic', 'miss');
    return null;
  }

  recorder() {
    return new AnswerRecorder();
  }

  /**
   * Stores a finished answer: one that ended with `stop` or `tool_calls` (and
   * `length` when the request accepts truncated answers). Errors, cut streams
   * and hits are never stored. Store failures are the store's to report; this
   * resolves.
   */
  async store(recorder: AnswerRecorder, end: End) {
    if (!this.plan.writes || end.cache) return;
    if (!this.acceptable(end.finishReason)) return;
    const answer = recorder.answer(end, this.now());
    if (!answer) return;
    // A request may keep its answer for less than the gateway's time to live, never longer.
    const ttlMs = Math.min(this.plan.controls.ttlSeconds ?? Infinity, this.options.ttlSeconds) * 1000;
    const value = JSON.stringify(answer);
    const answerKey = await this.key(`a:${this.plan.keys.exact}`);
    if (answerKey === null || !(await this.options.store.set(answerKey, value, ttlMs))) return;
    this.options.metrics.stored(Buffer.byteLength(value));
    const { partition, lastUserText } = this.plan.keys;
    if (this.wantsEmbedding && this.embedding && partition !== null && lastUserText !== null) {
      const item: SemanticItem = {
        k: this.plan.keys.exact,
        t: lastUserText,
        m: this.embedding.model,
        e: toBase64(this.embedding.vector),
      };
      const listKey = await this.key(`p:${partition}`);
      if (listKey !== null) {
        await this.options.store.push(listKey, JSON.stringify(item), this.options.partitionEntries, ttlMs);
      }
    }
  }

  /** Whole answers only; one cut off at the token limit only for a request that accepts it. */
  private acceptable(finishReason: string | null) {
    if (finishReason === 'length') return this.plan.controls.acceptTruncated === true;
    return finishReason !== null && FINISHED.has(finishReason);
  }

  private async read(exact: string): Promise<StoredAnswer | null> {
    const key = await this.key(`a:${exact}`);
    const raw = key === null ? null : await this.options.store.get(key);
    if (!raw) return null;
    try {
      const stored = JSON.parse(raw) as StoredAnswer;
      return stored.v === 1 && this.acceptable(stored.end.finishReason) ? stored : null;
    } catch {
      return null;
    }
  }

  /**
   * A storage key under this key's current generation: a purge moves every
   * later read to a new one. Null when the generation cannot be read: a
   * guess of 0 could serve answers purged since, so the cache is skipped.
   */
  private async key(suffix: string) {
    this.generation ??= this.options.store.counter(`${this.plan.space}:generation`);
    const generation = await this.generation;
    return generation === null ? null : `${this.plan.space}:${generation}:${suffix}`;
  }

  private age(stored: StoredAnswer) {
    return Math.max(0, (this.now() - stored.storedAt) / 1000);
  }
}
