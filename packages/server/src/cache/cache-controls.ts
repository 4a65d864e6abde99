import { z } from 'zod';

/**
 * The least cosine similarity (all-MiniLM-L6-v2) of a semantic hit by default:
 * chosen on the dev split of eval/cache-pairs.jsonl, reported on its test split
 * (bench/README.md, "Response cache").
 */
export const SEMANTIC_THRESHOLD = 0.72;

/** The longest an entry may live: a month. Beyond it an answer is more likely stale than cheap. */
export const MAX_TTL_SECONDS = 30 * 24 * 3600;

/**
 * What one request asks of the response cache (`cache` in generate's and
 * selectModel's input, `tokenflow.cache` on /v1). The gateway's CACHE_MODE
 * decides whether there is a cache at all; these only narrow it.
 */
export const cacheControlsSchema = z.strictObject({
  /**
   * read-write (the default): answer from the cache, store what is not there.
   * read-only: answer from the cache, store nothing. write-only: always ask the
   * model, then store its answer (a refresh). off: neither.
   */
  mode: z.enum(['read-write', 'read-only', 'write-only', 'off']).optional(),
  /** How long this answer stays stored: at most CACHE_TTL_SECONDS, which is also the default. */
  ttlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
  /** The least cosine similarity a semantic hit needs: stricter than CACHE_SEMANTIC_THRESHOLD, never looser. */
  threshold: z.number().min(0).max(1).optional(),
  /**
   * Store, and be served, answers cut off by the token limit (finish reason
   * `length`); without it such answers are neither stored nor served.
   */
  acceptTruncated: z.boolean().optional(),
});

/** What a request's cache mode lets it do: read stored answers, write its own. */
export const cacheAccess = (mode: NonNullable<CacheControls['mode']>) => ({
  reads: mode === 'read-write' || mode === 'read-only',
  writes: mode === 'read-write' || mode === 'write-only',
});

/** The mode that reads and writes as asked. */
export const cacheModeOf = (reads: boolean, writes: boolean): NonNullable<CacheControls['mode']> =>
  reads ? (writes ? 'read-write' : 'read-only') : writes ? 'write-only' : 'off';

export type CacheControls = z.infer<typeof cacheControlsSchema>;

/** The gateway-wide switch: no cache, exact matches only, or exact then semantic (selectModel). */
export const CACHE_MODES = ['off', 'exact', 'semantic'] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

/** How a hit was found, and how old and how close the stored answer is; on metadata and end events. */
export const cacheHitSchema = z.object({
  hit: z.enum(['exact', 'semantic']),
  /** Cosine similarity of the two last user turns; 1 for an exact hit. */
  similarity: z.number(),
  ageSeconds: z.number().nonnegative(),
});

export type CacheHit = z.infer<typeof cacheHitSchema>;
export type CacheHitKind = CacheHit['hit'];
