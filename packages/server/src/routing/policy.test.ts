import { describe, expect, it } from 'vitest';
import { type Catalog, catalogSchema, loadCatalog } from './catalog.ts';
import { estimateTokens, type RouteRequest, route } from './policy.ts';

const catalog: Catalog = catalogSchema.parse({
  defaultCategory: 'general',
  models: [
    {
      provider: 'groq',
      model: 'big-reasoner',
      categories: { reasoning: 1, general: 2 },
      contextWindow: 100_000,
      price: { inputPerMTok: 1, outputPerMTok: 4 },
      tokensPerSecond: 100,
    },
    {
      provider: 'openrouter',
      model: 'cheap-reasoner',
      categories: { reasoning: 2 },
      contextWindow: 8_000,
      price: { inputPerMTok: 0.1, outputPerMTok: 0.2 },
      tokensPerSecond: 50,
    },
    {
      provider: 'groq',
      model: 'fast-small',
      categories: { reasoning: 3, general: 1 },
      contextWindow: 32_000,
      price: { inputPerMTok: 0.05, outputPerMTok: 0.08 },
      tokensPerSecond: 900,
    },
    {
      provider: 'openrouter',
      model: 'chat-only',
      categories: { general: 3 },
      contextWindow: 200_000,
      price: { inputPerMTok: 0.5, outputPerMTok: 0.5 },
    },
  ],
});

const both = { isConfigured: () => true, confidenceThreshold: 0.4, defaultMaxTokens: 1000 };
const groqOnly = { ...both, isConfigured: (p: string) => p === 'groq' };
const base: RouteRequest = { category: 'reasoning', confidence: 0.9, promptTokens: 500 };

const models = (r: ReturnType<typeof route>) => r.candidates.map((c) => c.model);

describe('route', () => {
  it.each([
    [
      'confident reasoning, all providers',
      base,
      both,
      'reasoning',
      'classified',
      ['big-reasoner', 'cheap-reasoner', 'fast-small'],
    ],
    ['confident reasoning, groq only', base, groqOnly, 'reasoning', 'classified', ['big-reasoner', 'fast-small']],
    [
      'low confidence goes to the default category',
      { ...base, confidence: 0.2 },
      both,
      'general',
      'low-confidence',
      ['fast-small', 'big-reasoner', 'chat-only'],
    ],
    [
      'no classification goes to the default category',
      { ...base, category: null, confidence: null },
      both,
      'general',
      'unclassified',
      ['fast-small', 'big-reasoner', 'chat-only'],
    ],
    [
      "a caller's own category the catalog lacks goes to the default",
      { ...base, category: 'billing' },
      both,
      'general',
      'unknown-category',
      ['fast-small', 'big-reasoner', 'chat-only'],
    ],
    [
      'a long prompt drops models whose context is too small',
      { ...base, promptTokens: 20_000 },
      both,
      'reasoning',
      'classified',
      ['big-reasoner', 'fast-small'],
    ],
    [
      'maxTokens counts against the context window',
      { ...base, promptTokens: 20_000, maxTokens: 20_000 },
      both,
      'reasoning',
      'classified',
      ['big-reasoner'],
    ],
    [
      'prefer cost orders by the estimated cost of this request',
      { ...base, prefer: 'cost' },
      both,
      'reasoning',
      'classified',
      ['fast-small', 'cheap-reasoner', 'big-reasoner'],
    ],
    [
      'prefer speed orders by tokens per second',
      { ...base, prefer: 'speed' },
      both,
      'reasoning',
      'classified',
      ['fast-small', 'big-reasoner', 'cheap-reasoner'],
    ],
    [
      'allowedProviders filters',
      { ...base, allowedProviders: ['openrouter'] },
      both,
      'reasoning',
      'classified',
      ['cheap-reasoner'],
    ],
    [
      'maxPricePerMTok filters on the higher of input and output price',
      { ...base, maxPricePerMTok: 0.5 },
      both,
      'reasoning',
      'classified',
      ['cheap-reasoner', 'fast-small'],
    ],
  ] as const)('%s', (_name, request, policy, category, reason, expected) => {
    const result = route(catalog, request, policy);
    expect(result.category).toBe(category);
    expect(result.reason).toBe(reason);
    expect(models(result)).toEqual(expected);
  });

  it('falls back to the default category when no model of the classified one fits', () => {
    const result = route(catalog, { ...base, allowedProviders: ['openrouter'], promptTokens: 10_000 }, both);
    expect(result).toMatchObject({ category: 'general', reason: 'nothing-fits' });
    expect(models(result)).toEqual(['chat-only']);
  });

  it('returns no candidates, with every exclusion explained, when nothing can serve', () => {
    const result = route(catalog, base, { ...both, isConfigured: () => false });
    expect(result.candidates).toEqual([]);
    expect(result.excluded).toContainEqual({
      provider: 'groq',
      model: 'big-reasoner',
      why: 'provider groq is not configured',
    });
  });

  it('estimates the cost of the request from the prices per million tokens', () => {
    const [first] = route(catalog, { ...base, promptTokens: 50_000, maxTokens: 10 }, both).candidates;
    expect(first?.estimatedCostUsd).toBeCloseTo((50_000 * 1 + 10 * 4) / 1_000_000, 10);
  });
});

describe('catalog', () => {
  it('ships a valid built-in catalog in which every default category has models', () => {
    const builtIn = loadCatalog();
    for (const category of ['reasoning', 'code', 'function-calling', 'text-to-text', 'creative', 'general']) {
      expect(
        builtIn.models.some((m) => category in m.categories),
        category,
      ).toBe(true);
    }
  });

  it('rejects a catalog whose default category no model serves, naming the problem', () => {
    const parsed = catalogSchema.safeParse({ ...catalog, defaultCategory: 'nope' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('no model serves the default category');
  });
});

describe('estimateTokens', () => {
  it('counts one token per three characters, rounded up, the same rule as the ML service', () => {
    // ml-python/tests/test_metrics.py pins the same cases for estimate_tokens.
    const cases = { '': 0, abc: 1, abcd: 2, ['x'.repeat(300)]: 100 };
    const estimated = Object.fromEntries(Object.keys(cases).map((text) => [text, estimateTokens(text)]));
    expect(estimated).toEqual(cases);
  });
});
