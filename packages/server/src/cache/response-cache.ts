import type { GenerateEvent, SelectModelEvent } from '../generation/events.ts';
import type { GenerateInput, SelectModelInput } from '../generation/input.ts';
import type { CacheControls, CacheHit, CacheMode } from './cache-controls.ts';
import type { CacheStore } from './cache-store.ts';
import { falseHitReason, type GuardReason, specificsOf } from './false-hit-guard.ts';
import { type CachedProcedure, keySpace, type RequestKeys, requestKeys } from './request-key.ts';
import { AnswerRecorder, type StoredAnswer } from './stored-answer.ts';

type End = Extract<GenerateEvent | SelectModelEvent, { type: 'end' }>;

export interface CacheMetricsSink {
  lookup(kind: 'exact' | 'semantic', result: 'hit' | 'miss'): void;
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

/** Where a stored answer may be served from: exact, then (semantic mode, selectModel) similar prompts. */
const FINISHED = new Set(['stop', 'tool_calls']);

interface SemanticItem {
  /** The exact key of the stored answer. */
  k: string;
  /** The last user turn it answered. */
  t: string;
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

  get mode() {
    return this.options.mode;
  }

  get store() {
    return this.options.store;
  }

  /** One request's cache, or null when nothing is to be read or written for it. */
  forRequest(procedure: CachedProcedure, apiKey: string, input: GenerateInput | SelectModelInput): RequestCache | null {
    if (this.options.mode === 'off') return null;
    const controls = input.cache ?? {};
    const mode = controls.mode ?? 'read-write';
    if (mode === 'off') return null;
    return new RequestCache(this, this.options, {
      procedure,
      space: `${this.prefix}{${keySpace(this.options.scope === 'key' ? apiKey : '*')}}`,
      keys: requestKeys(procedure, input, this.options.mode === 'semantic' && procedure === 'selectModel'),
      controls,
      reads: mode === 'read-write' || mode === 'read-only',
      writes: mode === 'read-write' || mode === 'write-only',
    });
  }

  /** Forgets every answer stored for this key (for all keys when the cache is shared), on every instance. */
  async purge(apiKey: string) {
    const space = `${this.prefix}{${keySpace(this.options.scope === 'key' ? apiKey : '*')}}`;
    await this.options.store.bump(`${space}:generation`);
  }

  time() {
    return this.now();
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
  private generation: Promise<number> | null = null;
  /** The last user turn's embedding, from the classifier: what a stored answer is found by later. */
  private embedding: number[] | null = null;

  constructor(
    private readonly cache: ResponseCache,
    private readonly options: ResponseCacheOptions,
    private readonly plan: RequestPlan,
  ) {}

  get reads() {
    return this.plan.reads;
  }

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
   * partition, when it is at least `threshold` similar and the guard finds no
   * difference in numbers, units, code, negation or names.
   */
  async similar(embedding: number[] | null | undefined): Promise<CacheLookup | null> {
    this.embedding = embedding ?? null;
    const { partition, lastUserText } = this.plan.keys;
    if (!this.plan.reads || !this.wantsEmbedding || !embedding || partition === null || lastUserText === null)
      return null;
    const threshold = this.plan.controls.threshold ?? this.options.threshold;
    const items = await this.options.store.list(await this.key(`p:${partition}`));
    const candidates = items
      .map((raw) => {
        try {
          const item = JSON.parse(raw) as SemanticItem;
          return { item, similarity: cosine(fromBase64(item.e), embedding) };
        } catch {
          return null;
        }
      })
      .filter((c): c is { item: SemanticItem; similarity: number } => c !== null && c.similarity >= threshold)
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, MAX_CANDIDATES);
    const mine = candidates.length > 0 ? specificsOf(lastUserText) : null;
    for (const { item, similarity } of candidates) {
      if (!mine) break;
      const reason = item.t === lastUserText ? null : falseHitReason(mine, specificsOf(item.t));
      if (reason) {
        this.options.metrics.guardRefused(reason);
        continue;
      }
      const stored = await this.read(item.k);
      if (!stored) continue;
      this.options.metrics.lookup('semantic', 'hit');
      return { stored, hit: { hit: 'semantic', similarity, ageSeconds: this.age(stored) } };
    }
    this.options.metrics.lookup('semantic', 'miss');
    return null;
  }

  recorder() {
    return new AnswerRecorder();
  }

  /**
   * Stores a finished answer: one that ended with `stop` or `tool_calls` (and
   * `length` when the request asked for it). Errors, cut streams and hits are
   * never stored. Store failures are the store's to report; this resolves.
   */
  async store(recorder: AnswerRecorder, end: End) {
    if (!this.plan.writes || end.cache) return;
    const finished =
      (end.finishReason !== null && FINISHED.has(end.finishReason)) ||
      (end.finishReason === 'length' && this.plan.controls.storeTruncated === true);
    if (!finished) return;
    const answer = recorder.answer(end, this.cache.time());
    if (!answer) return;
    const ttlMs = (this.plan.controls.ttlSeconds ?? this.options.ttlSeconds) * 1000;
    const value = JSON.stringify(answer);
    await this.options.store.set(await this.key(`a:${this.plan.keys.exact}`), value, ttlMs);
    this.options.metrics.stored(value.length);
    const { partition, lastUserText } = this.plan.keys;
    if (this.wantsEmbedding && this.embedding && partition !== null && lastUserText !== null) {
      const item: SemanticItem = { k: this.plan.keys.exact, t: lastUserText, e: toBase64(this.embedding) };
      await this.options.store.push(
        await this.key(`p:${partition}`),
        JSON.stringify(item),
        this.options.partitionEntries,
        ttlMs,
      );
    }
  }

  private async read(exact: string): Promise<StoredAnswer | null> {
    const raw = await this.options.store.get(await this.key(`a:${exact}`));
    if (!raw) return null;
    try {
      const stored = JSON.parse(raw) as StoredAnswer;
      return stored.v === 1 ? stored : null;
    } catch {
      return null;
    }
  }

  /** A storage key under this key's current generation: a purge moves every later read to a new one. */
  private async key(suffix: string) {
    this.generation ??= this.options.store.counter(`${this.plan.space}:generation`);
    return `${this.plan.space}:${await this.generation}:${suffix}`;
  }

  private age(stored: StoredAnswer) {
    return Math.max(0, (this.cache.time() - stored.storedAt) / 1000);
  }
}
