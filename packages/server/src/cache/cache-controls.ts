import { z } from 'zod';

/**
 * The least cosine similarity (all-MiniLM-L6-v2) of a semantic hit by default:
 * chosen on the dev split of eval/cache-pairs.jsonl, reported on its test split
 * (bench/README.md, "Response cache").
 */
export const SEMANTIC_THRESHOLD = 0.77;

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
  /** How long this answer stays stored; CACHE_TTL_SECONDS when left out. */
  ttlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
  /** The least cosine similarity a semantic hit needs; CACHE_SEMANTIC_THRESHOLD when left out. */
  threshold: z.number().min(0).max(1).optional(),
  /** Store answers cut off by the token limit (finish reason `length`) too; they are not by default. */
  storeTruncated: z.boolean().optional(),
});

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
