import { z } from 'zod';

/** The ML service's limits (packages/ml-python/src/tokenflow_ml/schemas.py), checked here first. */
export const ML_LIMITS = {
  textChars: 400_000,
  promptChars: 20_000,
  categories: 32,
  categoryChars: 64,
  forceTokens: 32,
  forceTokenChars: 32,
  questionChars: 10_000,
} as const;

const notBlank = (value: string) => value.trim().length > 0;

export const classifyInputSchema = z.strictObject({
  prompt: z.string().min(1).max(ML_LIMITS.promptChars).refine(notBlank, 'must contain text, not only whitespace'),
  /** Omitted or null: the default categories (reasoning, code, function-calling, text-to-text, creative, general). */
  possibleCategories: z
    .array(z.string().trim().min(1).max(ML_LIMITS.categoryChars))
    .min(1)
    .max(ML_LIMITS.categories)
    .refine((list) => new Set(list.map((c) => c.toLowerCase())).size === list.length, 'must not repeat a category')
    .nullish(),
  multiLabel: z.boolean().default(false),
});

export const compressInputSchema = z.strictObject({
  text: z.string().min(1).max(ML_LIMITS.textChars).refine(notBlank, 'must contain text, not only whitespace'),
  /** Fraction of tokens to keep, 0 < ratio <= 1. */
  ratio: z.number().gt(0).max(1).default(0.5),
  /** A token budget; overrides ratio when set. */
  targetTokens: z.number().int().min(1).max(1_000_000).optional(),
  forceTokens: z
    // A newline is a useful forced token; spaces alone make llmlingua multiply the spaces.
    .array(
      z
        .string()
        .min(1)
        .max(ML_LIMITS.forceTokenChars)
        .refine((token) => token.replace(/[ \t]/g, '').length > 0, 'must not be only spaces'),
    )
    .max(ML_LIMITS.forceTokens)
    .optional(),
  forceReserveDigit: z.boolean().optional(),
  /** Keep fact spans whole (numbers with units, dates, identifiers, paths, code, names); default true. */
  preserve: z.boolean().optional(),
  dropConsecutive: z.boolean().optional(),
  /** For question-aware compression: passages relevant to it are kept first. */
  question: z.string().min(1).max(ML_LIMITS.questionChars).optional(),
});

// The service's answers, in its snake_case, turned into our camelCase here and nowhere else.
export const classifyResultSchema = z
  .object({
    labels: z.array(z.object({ label: z.string(), score: z.number() })),
    top_category: z.string(),
    confidence: z.number(),
    backend: z.string(),
    model: z.string(),
    elapsed_ms: z.number(),
  })
  .transform((r) => ({
    labels: r.labels,
    topCategory: r.top_category,
    confidence: r.confidence,
    backend: r.backend,
    model: r.model,
    elapsedMs: r.elapsed_ms,
  }));

export const compressResultSchema = z
  .object({
    compressed_text: z.string(),
    origin_tokens: z.number().int(),
    compressed_tokens: z.number().int(),
    ratio: z.number(),
    saving_percent: z.number(),
    method: z.string(),
    model: z.string(),
    elapsed_ms: z.number(),
  })
  .transform((r) => ({
    compressedText: r.compressed_text,
    originTokens: r.origin_tokens,
    compressedTokens: r.compressed_tokens,
    ratio: r.ratio,
    savingPercent: r.saving_percent,
    method: r.method,
    model: r.model,
    elapsedMs: r.elapsed_ms,
  }));

export const mlReadinessSchema = z.object({
  ready: z.boolean(),
  models: z.record(
    z.string(),
    z.object({ status: z.string(), backend: z.string(), model: z.string(), error: z.string().nullish() }),
  ),
});

export type ClassifyInput = z.infer<typeof classifyInputSchema>;
export type CompressInput = z.infer<typeof compressInputSchema>;
export type ClassifyResult = z.output<typeof classifyResultSchema>;
export type CompressResult = z.output<typeof compressResultSchema>;
export type MlReadiness = z.infer<typeof mlReadinessSchema>;
