import { z } from 'zod';

/** Size limits that keep one request from exhausting the gateway's memory. */
export const LIMITS = {
  promptChars: 400_000,
  messages: 500,
  modelChars: 200,
  stopSequences: 4,
  stopChars: 64,
  maxTokens: 1_000_000,
} as const;

export const chatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().max(LIMITS.promptChars),
});

export const generateInputSchema = z
  .object({
    prompt: z.string().min(1).max(LIMITS.promptChars).optional(),
    messages: z.array(chatMessageSchema).min(1).max(LIMITS.messages).optional(),
    model: z.string().trim().min(1).max(LIMITS.modelChars),
    provider: z.string().trim().min(1).max(64).optional(),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    maxTokens: z.number().int().min(1).max(LIMITS.maxTokens).optional(),
    stop: z
      .union([
        z.string().min(1).max(LIMITS.stopChars),
        z.array(z.string().min(1).max(LIMITS.stopChars)).min(1).max(LIMITS.stopSequences),
      ])
      .optional(),
    /** Set by the tRPC client when it resubscribes after a lost connection. */
    lastEventId: z.string().max(200).nullish(),
  })
  .refine((input) => (input.prompt === undefined) !== (input.messages === undefined), {
    message: 'Send exactly one of prompt or messages.',
    path: ['prompt'],
  })
  .refine((input) => (input.messages ?? []).reduce((sum, m) => sum + m.content.length, 0) <= LIMITS.promptChars, {
    message: `The messages hold more than ${LIMITS.promptChars} characters in all.`,
    path: ['messages'],
  });

export type GenerateInput = z.infer<typeof generateInputSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export function toMessages(input: Pick<GenerateInput, 'prompt' | 'messages'>): ChatMessage[] {
  return input.messages ?? [{ role: 'user', content: input.prompt ?? '' }];
}
