import { z } from 'zod';
import { cacheControlsSchema } from '../cache/cache-controls.ts';
import { classifyInputSchema, compressInputSchema } from '../ml/schemas.ts';
import { preferSchema } from '../routing/policy.ts';
import {
  CHAT_LIMITS,
  type ChatMessage,
  charsOf,
  chatMessageSchema,
  imageCount,
  type Protocol,
  protocolShape,
  wellFormed,
} from './chat-schema.ts';

export { type ChatMessage, chatMessageSchema } from './chat-schema.ts';

/** Size limits that keep one request from exhausting the gateway's memory. */
export const LIMITS = {
  promptChars: CHAT_LIMITS.promptChars,
  messages: CHAT_LIMITS.messages,
  modelChars: 200,
  stopSequences: 4,
  stopChars: 64,
  maxTokens: 1_000_000,
} as const;

// Inputs refuse unknown fields rather than drop them: a typo such as `maxtokens` must not
// silently fall back to a default.
/** What to answer and how to sample: shared by generate and selectModel. */
const conversationShape = {
  prompt: z.string().min(1).max(LIMITS.promptChars).optional(),
  messages: z.array(chatMessageSchema).min(1).max(LIMITS.messages).optional(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().gt(0).max(1).optional(),
  maxTokens: z.number().int().min(1).max(LIMITS.maxTokens).optional(),
  stop: z
    .union([
      z.string().min(1).max(LIMITS.stopChars),
      z.array(z.string().min(1).max(LIMITS.stopChars)).min(1).max(LIMITS.stopSequences),
    ])
    .optional(),
  ...protocolShape,
  /** What this request asks of the response cache (the gateway's CACHE_MODE must be on). */
  cache: cacheControlsSchema.optional(),
  /** Set by the tRPC client when it resubscribes after a lost connection. */
  lastEventId: z.string().max(200).nullish(),
};

type Conversation = { prompt?: string | undefined; messages?: ChatMessage[] | undefined } & Protocol;

function conversationRules<T extends z.ZodType<Conversation>>(schema: T) {
  return schema
    .refine((input) => (input.prompt === undefined) !== (input.messages === undefined), {
      message: 'Send exactly one of prompt or messages.',
      path: ['prompt'],
    })
    .refine((input) => (input.messages ?? []).reduce((sum, m) => sum + charsOf(m), 0) <= LIMITS.promptChars, {
      message: `The messages hold more than ${LIMITS.promptChars} characters in all.`,
      path: ['messages'],
      when: wellFormed,
    })
    .refine((input) => imageCount(input.messages ?? []) <= CHAT_LIMITS.imagesPerRequest, {
      message: `The messages hold more than ${CHAT_LIMITS.imagesPerRequest} images.`,
      path: ['messages'],
      when: wellFormed,
    })
    .refine(
      (input) => input.tools !== undefined || (input.toolChoice === undefined && input.parallelToolCalls === undefined),
      {
        message: 'toolChoice and parallelToolCalls need tools.',
        path: ['toolChoice'],
      },
    )
    .refine(
      ({ toolChoice, tools }) =>
        typeof toolChoice !== 'object' || (tools ?? []).some((t) => t.function.name === toolChoice.function.name),
      { message: 'toolChoice names a function that is not among the tools.', path: ['toolChoice'], when: wellFormed },
    );
}

export const generateInputSchema = conversationRules(
  z.strictObject({
    ...conversationShape,
    model: z.string().trim().min(1).max(LIMITS.modelChars),
    provider: z.string().trim().min(1).max(64).optional(),
  }),
);

export const selectModelInputSchema = conversationRules(
  z.strictObject({
    ...conversationShape,
    /** Null or omitted: the default categories. */
    possibleCategories: classifyInputSchema.shape.possibleCategories,
    multiLabel: z.boolean().optional(),
    /** Compress the prompt (for messages: the last user message) before routing and sending it. */
    compress: compressInputSchema
      .pick({ ratio: true, targetTokens: true, forceTokens: true, forceReserveDigit: true, preserve: true })
      .optional(),
    prefer: preferSchema.optional(),
    allowedProviders: z.array(z.string().min(1).max(64)).min(1).max(32).optional(),
    maxPricePerMTok: z.number().nonnegative().optional(),
  }),
);

export type GenerateInput = z.infer<typeof generateInputSchema>;
export type SelectModelInput = z.infer<typeof selectModelInputSchema>;

export function toMessages(input: Conversation & { messages?: ChatMessage[] | undefined }): ChatMessage[] {
  return input.messages ?? [{ role: 'user', content: input.prompt ?? '' }];
}
