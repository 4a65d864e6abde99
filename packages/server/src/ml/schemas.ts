import { z } from 'zod';
import { type CamelKeys, camelCase, toCamelKeys } from '../wire/case.ts';
import { zClassifyRequest, zClassifyResponse, zCompressRequest, zCompressResponse, zReadiness } from './wire.gen.ts';

// The service's wire format (snake_case) comes from its OpenAPI (wire.gen.ts); the gateway's
// camelCase view of it is derived here, and only the gateway's own rules are written by hand.

/** A strict wire object with its fields renamed to camelCase, each keeping its checks. */
function camelObject<S extends z.ZodRawShape>(wire: z.ZodObject<S>) {
  const shape = Object.fromEntries(Object.entries(wire.shape).map(([key, field]) => [camelCase(key), field]));
  return z.strictObject(shape as CamelKeys<S>);
}

/** A wire response read into camelCase: the one place the service's answers change case. */
function camelResult<S extends z.ZodType<object>>(wire: S) {
  return wire.transform((value): CamelKeys<z.output<S>> => toCamelKeys(value));
}

/** The most characters or items the service accepts in a field: its spec is the only source. */
function maxLength(schema: z.ZodType): number {
  for (const check of schema._zod.def.checks ?? []) {
    const def = check._zod.def as { check: string; maximum?: number };
    if (def.check === 'max_length' && def.maximum !== undefined) return def.maximum;
  }
  throw new Error('packages/ml-python/openapi.json lost a length limit the gateway checks');
}

const wire = { classify: zClassifyRequest.shape, compress: zCompressRequest.shape };
const categories = wire.classify.possible_categories.unwrap().unwrap();
const forceTokens = wire.compress.force_tokens.unwrap();

/** The ML service's limits (from packages/ml-python/openapi.json), checked here first. */
export const ML_LIMITS = {
  textChars: maxLength(wire.compress.text),
  promptChars: maxLength(wire.classify.prompt),
  categories: maxLength(categories),
  categoryChars: maxLength(categories.element),
  forceTokens: maxLength(forceTokens),
  forceTokenChars: maxLength(forceTokens.element),
  questionChars: maxLength(wire.compress.question.unwrap().unwrap()),
} as const;

const notBlank = (value: string) => value.trim().length > 0;
const NOT_BLANK = 'must contain text, not only whitespace';

// return_embedding is the gateway's own (its semantic cache asks through the client's
// returnEmbedding option): public callers can neither send it nor see it in the input.
const publicClassifyRequest = camelObject(zClassifyRequest).omit({ returnEmbedding: true });

export const classifyInputSchema = publicClassifyRequest.extend({
  prompt: wire.classify.prompt.refine(notBlank, NOT_BLANK),
  /** Omitted or null: the default categories (reasoning, code, function-calling, text-to-text, creative, general). */
  possibleCategories: z
    // Trimmed before the checks, as the service strips each category before its own.
    .array(z.string().trim().pipe(categories.element))
    .min(1)
    .max(ML_LIMITS.categories)
    .refine((list) => new Set(list.map((c) => c.toLowerCase())).size === list.length, 'must not repeat a category')
    .nullish(),
});

// Options left out stay out of the request, so the service applies its own defaults; only
// ratio keeps the gateway's (the same 0.5), and nothing here takes null.
export const compressInputSchema = camelObject(zCompressRequest).extend({
  text: wire.compress.text.refine(notBlank, NOT_BLANK),
  /** A token budget; overrides ratio when set. */
  targetTokens: wire.compress.target_tokens.unwrap().unwrap().optional(),
  forceTokens: z
    // A newline is a useful forced token; spaces alone make llmlingua multiply the spaces.
    .array(forceTokens.element.refine((token) => token.replace(/[ \t]/g, '').length > 0, 'must not be only spaces'))
    .max(ML_LIMITS.forceTokens)
    .optional(),
  forceReserveDigit: wire.compress.force_reserve_digit.removeDefault(),
  /** Keep fact spans whole (numbers with units, dates, identifiers, paths, code, names); default true. */
  preserve: wire.compress.preserve.removeDefault(),
  dropConsecutive: wire.compress.drop_consecutive.removeDefault(),
  /** For question-aware compression: passages relevant to it are kept first. */
  question: wire.compress.question.unwrap().unwrap().optional(),
});

export const classifyResultSchema = camelResult(zClassifyResponse);
export const compressResultSchema = camelResult(zCompressResponse);
export const mlReadinessSchema = zReadiness;

/** The bodies the service takes, as its OpenAPI describes them. */
export type ClassifyRequest = z.input<typeof zClassifyRequest>;
export type CompressRequest = z.input<typeof zCompressRequest>;
export type ClassifyInput = z.infer<typeof classifyInputSchema>;
export type CompressInput = z.infer<typeof compressInputSchema>;
export type ClassifyResult = z.output<typeof classifyResultSchema>;
export type CompressResult = z.output<typeof compressResultSchema>;
export type MlReadiness = z.infer<typeof mlReadinessSchema>;
