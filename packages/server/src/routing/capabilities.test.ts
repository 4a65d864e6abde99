import { describe, expect, it } from 'vitest';
import { catalogSchema } from './catalog.ts';
import { route, TOOLS_CATEGORY } from './policy.ts';

const model = (name: string, categories: Record<string, number>, flags: Record<string, boolean> = {}) => ({
  provider: 'groq',
  model: name,
  categories,
  contextWindow: 100_000,
  price: { inputPerMTok: 1, outputPerMTok: 1 },
  ...flags,
});

const catalog = catalogSchema.parse({
  defaultCategory: 'general',
  models: [
    model('plain', { general: 1, [TOOLS_CATEGORY]: 1 }),
    model('agent', { general: 2, [TOOLS_CATEGORY]: 2 }, { supportsTools: true }),
    model('eyes', { general: 3 }, { supportsVision: true, supportsTools: true }),
    model('schema', { general: 4 }, { supportsStructuredOutputs: true }),
    model('text-only', { general: 5 }, { supportsJsonMode: false }),
  ],
});
const policy = { isConfigured: () => true, confidenceThreshold: 0.4, defaultMaxTokens: 1000 };
const none = { tools: false, vision: false, structuredOutputs: false, jsonMode: false };
const models = (r: ReturnType<typeof route>) => r.candidates.map((c) => c.model);

describe('routing by what a request needs of the model', () => {
  it('sends a request with tools to function-calling, without the classifier, and only to models with supportsTools', () => {
    const routed = route(
      catalog,
      {
        category: TOOLS_CATEGORY,
        categoryFromTools: true,
        confidence: null,
        promptTokens: 10,
        needs: { ...none, tools: true },
      },
      policy,
    );

    expect(routed).toMatchObject({ category: TOOLS_CATEGORY, reason: 'tools' });
    expect(models(routed)).toEqual(['agent']);
    expect(routed.excluded).toContainEqual({
      provider: 'groq',
      model: 'plain',
      why: 'does not support tools (supportsTools)',
    });
  });

  it.each([
    [{ ...none, vision: true }, ['eyes'], 'does not take images (supportsVision)'],
    [
      { ...none, structuredOutputs: true },
      ['schema'],
      'does not support json_schema response formats (supportsStructuredOutputs)',
    ],
    [
      { ...none, jsonMode: true },
      ['plain', 'agent', 'eyes', 'schema'],
      'does not support json_object response formats (supportsJsonMode)',
    ],
    [none, ['plain', 'agent', 'eyes', 'schema', 'text-only'], null],
  ])('needs %j: serves %j', (needs, expected, why) => {
    const routed = route(catalog, { category: 'general', confidence: 0.9, promptTokens: 10, needs }, policy);

    expect(models(routed)).toEqual(expected);
    if (why) expect(routed.excluded.map((e) => e.why)).toContain(why);
  });

  it('finds nothing when no model has every flag, and the exclusions name every flag each lacks', () => {
    const routed = route(
      catalog,
      {
        category: 'general',
        confidence: 0.9,
        promptTokens: 10,
        needs: { tools: true, vision: true, structuredOutputs: true, jsonMode: false },
      },
      policy,
    );

    expect(routed.candidates).toEqual([]);
    expect(routed.excluded).toContainEqual({
      provider: 'groq',
      model: 'plain',
      why: 'does not support tools (supportsTools), does not take images (supportsVision), does not support json_schema response formats (supportsStructuredOutputs)',
    });
    expect(routed.excluded.map((e) => e.model)).toEqual(['plain', 'agent', 'eyes', 'schema', 'text-only']);
  });
});
