// Models are named after recordings, so the replay upstream answers each with its stream.
export const REASONER = { provider: 'groq', model: 'groq-thinking-part-iter-1' } as const;
export const CODER = { provider: 'openrouter', model: 'openrouter-stream-with-native-options' } as const;
export const CHATTER = { provider: 'groq', model: 'groq-thinking-part-iter-0' } as const;
export const SMALL = { provider: 'openrouter', model: 'openrouter-streaming-reasoning' } as const;

/** A catalog entry for a recorded model, ranked for `categories` (1 is the first choice). */
export const catalogModel = (ref: { provider: string; model: string }, categories: Record<string, number>) => ({
  ...ref,
  categories,
  contextWindow: 131_072,
  price: { inputPerMTok: 0.1, outputPerMTok: 0.2 },
});
