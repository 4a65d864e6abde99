import { z } from 'zod';

export const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
  /** What the provider says the call cost, when it says (OpenRouter does). */
  costUsd: z.number().nonnegative().nullable(),
});

/** Every event a generation stream emits, in order: metadata, text/reasoning*, end. */
export const generateEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('metadata'),
    requestId: z.string(),
    provider: z.string(),
    model: z.string(),
  }),
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('reasoning'), text: z.string() }),
  z.object({
    type: z.literal('end'),
    finishReason: z.string().nullable(),
    usage: usageSchema.nullable(),
  }),
]);

export type Usage = z.infer<typeof usageSchema>;
export type GenerateEvent = z.infer<typeof generateEventSchema>;
