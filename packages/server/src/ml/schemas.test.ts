import { describe, expect, it } from 'vitest';
import { classifyInputSchema, classifyResultSchema, compressInputSchema, ML_LIMITS } from './schemas.ts';

describe('the gateway schemas derived from the ML service spec', () => {
  it('take their limits from the spec', () => {
    expect(ML_LIMITS).toEqual({
      textChars: 400_000,
      promptChars: 20_000,
      categories: 32,
      categoryChars: 64,
      forceTokens: 32,
      forceTokenChars: 32,
      questionChars: 10_000,
    });
  });

  it('refuse unknown and snake_case fields', () => {
    expect(classifyInputSchema.safeParse({ prompt: 'hi', multi_label: true }).success).toBe(false);
    expect(compressInputSchema.safeParse({ text: 'hi', targetTokens: 5 }).success).toBe(true);
    expect(compressInputSchema.safeParse({ text: 'hi', target_tokens: 5 }).success).toBe(false);
  });

  it("keep the gateway's own wire options out of the public input", () => {
    expect(classifyInputSchema.safeParse({ prompt: 'hi', returnEmbedding: true }).success).toBe(false);
    expect(classifyInputSchema.safeParse({ prompt: 'hi', return_embedding: true }).success).toBe(false);
  });

  it('keep the gateway rules: trimmed distinct categories, no blank text or space-only tokens', () => {
    const repeated = classifyInputSchema.safeParse({ prompt: 'hi', possibleCategories: ['code', ' Code '] });
    const blank = compressInputSchema.safeParse({ text: '  \n' });
    const spaces = compressInputSchema.safeParse({ text: 'hi', forceTokens: ['\n', '  '] });

    expect(repeated.error?.issues[0]?.message).toBe('must not repeat a category');
    expect(blank.error?.issues[0]?.message).toBe('must contain text, not only whitespace');
    expect(spaces.error?.issues[0]).toMatchObject({ message: 'must not be only spaces', path: ['forceTokens', 1] });
    expect(classifyInputSchema.safeParse({ prompt: 'hi', possibleCategories: ['   '] }).success).toBe(false);
  });

  it("apply only the gateway's defaults, leaving the service's to the service", () => {
    expect(classifyInputSchema.parse({ prompt: 'hi' })).toEqual({ prompt: 'hi', multiLabel: false });
    expect(compressInputSchema.parse({ text: 'hi' })).toEqual({ text: 'hi', ratio: 0.5 });
    expect(compressInputSchema.safeParse({ text: 'hi', question: null }).success).toBe(false);
  });

  it('read answers into camelCase', () => {
    const answer = { labels: [], top_category: 'code', confidence: 0.9, backend: 'b', model: 'm', elapsed_ms: 1 };

    expect(classifyResultSchema.parse(answer)).toEqual({
      labels: [],
      topCategory: 'code',
      confidence: 0.9,
      backend: 'b',
      model: 'm',
      elapsedMs: 1,
    });
    expect(classifyResultSchema.parse({ ...answer, embedding: [0.6, 0.8] }).embedding).toEqual([0.6, 0.8]);
    expect(classifyResultSchema.parse({ ...answer, embedding: null }).embedding).toBeNull();
  });
});
