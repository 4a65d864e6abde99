import { z } from 'zod';
import { cacheHitSchema } from '../cache/cache-controls.ts';

/** Token counts as the provider reported them (providers/chat-stream.ts reads them). */
export const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
  /** What the provider says the call cost, when it says (OpenRouter does). */
  costUsd: z.number().nonnegative().nullable(),
});

/**
 * The usage an `end` event carries: the provider's token counts, and `costUsd`
 * from the provider when it reports one, else the catalog's price times the
 * tokens, else null (costSource says which). Kept at full float precision,
 * never rounded here, so sums over many requests do not pile up rounding
 * errors: round only for display.
 */
export const endUsageSchema = usageSchema.extend({
  costSource: z.enum(['provider', 'catalog']).nullable(),
});

/**
 * What compressing the prompt saved: GPT tokens the ML service counted
 * (originTokens - compressedTokens; negative when compression made it longer),
 * priced at the input price of the model that answered. `usd` is null when
 * the catalog has no price for that model; the whole field is null on a
 * selectModel `end` when nothing was compressed.
 */
export const savingsSchema = z.object({
  tokens: z.number().int(),
  usd: z.number().nullable(),
  priceSource: z.literal('catalog').nullable(),
});

const textEvent = z.object({ type: z.literal('text'), text: z.string() });
const reasoningEvent = z.object({ type: z.literal('reasoning'), text: z.string() });
/**
 * One fragment of a tool call, exactly as the provider streamed it: `index`
 * says which call (parallel calls interleave), `id` and `name` come on a
 * call's first fragment only, `argumentsDelta` is the next piece of its JSON
 * arguments (possibly empty).
 */
const toolCallEvent = z.object({
  type: z.literal('toolCall'),
  index: z.number().int().nonnegative(),
  id: z.string().optional(),
  name: z.string().optional(),
  argumentsDelta: z.string(),
});
/** A whole tool call, assembled from its fragments. */
export const assembledToolCallSchema = z.object({
  index: z.number().int().nonnegative(),
  id: z.string(),
  name: z.string(),
  arguments: z.string(),
});
/** The last event of a stream: how it finished, which model answered, what it used and cost. */
const endEvent = z.object({
  type: z.literal('end'),
  finishReason: z.string().nullable(),
  /** The model that answered (after any fallback). */
  provider: z.string(),
  model: z.string(),
  usage: endUsageSchema.nullable(),
  /** The tool calls of the answer, assembled in index order; absent when it made none. */
  toolCalls: z.array(assembledToolCallSchema).optional(),
  /** Present when the answer came from the response cache: the usage is the original's, and nothing was spent. */
  cache: cacheHitSchema.optional(),
});
const modelRef = z.object({ provider: z.string(), model: z.string() });

/** Every event a `generate` stream emits, in order: metadata, text/reasoning/toolCall*, end. */
export const generateEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('metadata'),
    requestId: z.string(),
    provider: z.string(),
    model: z.string(),
    /** Present when the answer comes from the response cache (the model is the one that answered then). */
    cache: cacheHitSchema.optional(),
  }),
  textEvent,
  reasoningEvent,
  toolCallEvent,
  endEvent,
]);

/**
 * Every event a `selectModel` stream emits: metadata (with how the model was
 * chosen), fallback* (before the first token only), text/reasoning/toolCall*, end.
 */
export const selectModelEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('metadata'),
    requestId: z.string(),
    /** The first candidate; a `fallback` event names any later one. */
    provider: z.string(),
    model: z.string(),
    category: z.string(),
    confidence: z.number().nullable(),
    scores: z.array(z.object({ label: z.string(), score: z.number() })),
    /** `skipped` when the request's tools decided the category (routing `tools`). */
    classification: z.enum(['ok', 'unavailable', 'skipped']),
    /** Why this category's ranking was used (classified, low-confidence, unclassified, ...). */
    routing: z.string(),
    candidates: z.array(modelRef),
    compression: z.object({ originTokens: z.number(), compressedTokens: z.number(), ratio: z.number() }).nullable(),
    classificationMs: z.number(),
    compressionMs: z.number().nullable(),
    /** What did not go as asked, e.g. "compression unavailable: ...". */
    notes: z.array(z.string()),
    /** Present when the answer comes from the response cache. */
    cache: cacheHitSchema.optional(),
  }),
  z.object({
    type: z.literal('fallback'),
    from: modelRef,
    to: modelRef,
    reason: z.string(),
    code: z.string(),
  }),
  textEvent,
  reasoningEvent,
  toolCallEvent,
  endEvent.extend({ savings: savingsSchema.nullable() }),
]);

export type Usage = z.infer<typeof usageSchema>;
export type EndUsage = z.infer<typeof endUsageSchema>;
export type Savings = z.infer<typeof savingsSchema>;
export type GenerateEvent = z.infer<typeof generateEventSchema>;
export type SelectModelEvent = z.infer<typeof selectModelEventSchema>;
export type ToolCallDelta = z.infer<typeof toolCallEvent>;
export type AssembledToolCall = z.infer<typeof assembledToolCallSchema>;
export type AnswerEvent = z.infer<typeof textEvent> | z.infer<typeof reasoningEvent> | ToolCallDelta;
export type ModelRef = z.infer<typeof modelRef>;
