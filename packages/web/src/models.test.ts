import { describe, expect, it } from 'vitest';
import { defaultModel, modelOptions, type Rankings } from './models.ts';

const entry = (provider: string, model: string, rank: number, available: boolean) => ({
  rank,
  provider,
  model,
  available,
  contextWindow: 8192,
  price: { inputPerMTok: 0.1, outputPerMTok: 0.2 },
  tokensPerSecond: null,
  supportsReasoning: false,
  supportsTools: false,
  supportsVision: false,
  supportsStructuredOutputs: false,
  supportsJsonMode: true,
});

const rankings: Rankings = {
  defaultCategory: 'general',
  categories: {
    code: [entry('openrouter', 'coder', 1, false), entry('groq', 'big', 2, true)],
    general: [entry('openrouter', 'chat', 1, false), entry('groq', 'small', 2, true), entry('groq', 'big', 3, true)],
  },
};

describe('modelOptions', () => {
  it('lists each catalog model once, grouped by provider, the default ranking first', () => {
    const options = modelOptions(rankings);
    expect([...options.keys()]).toEqual(['openrouter', 'groq']);
    expect(options.get('groq')?.map((o) => o.id)).toEqual(['groq/small', 'groq/big']);
    expect(options.get('openrouter')?.map((o) => o.id)).toEqual(['openrouter/chat', 'openrouter/coder']);
  });

  it('defaults to the best-ranked model whose provider is configured', () => {
    expect(defaultModel(modelOptions(rankings))).toBe('groq/small');
  });
});
