import { describe, expect, it } from 'vitest';
import type { Usage } from '../generation/events.ts';
import { loadCatalog, priceOf } from '../routing/catalog.ts';
import { compressionSavings, costUsage, type Price } from './cost.ts';

const usage = (promptTokens: number, completionTokens: number, costUsd: number | null = null): Usage => ({
  promptTokens,
  completionTokens,
  totalTokens: promptTokens + completionTokens,
  costUsd,
});
const CHEAP: Price = { inputPerMTok: 0.15, outputPerMTok: 0.6 };
const PRICEY: Price = { inputPerMTok: 3, outputPerMTok: 15 };

describe('costUsage', () => {
  it.each([
    ['provider cost wins over the catalog price', usage(1000, 500, 0.00333825), CHEAP, 0.00333825, 'provider'],
    [
      'provider cost wins for a model the catalog does not list',
      usage(10, 5, 0.000042),
      undefined,
      0.000042,
      'provider',
    ],
    ['a provider cost of zero is still the provider cost', usage(10, 5, 0), PRICEY, 0, 'provider'],
    ['catalog fallback: input and output at their own prices', usage(1000, 500, null), CHEAP, 0.00045, 'catalog'],
    ['catalog fallback for a large request', usage(123_456, 7_890, null), PRICEY, 0.488718, 'catalog'],
    ['zero tokens cost zero at the catalog price', usage(0, 0, null), PRICEY, 0, 'catalog'],
    ['an unknown model without a provider cost has no cost', usage(1000, 500, null), undefined, null, null],
  ] as const)('%s', (_name, reported, price, costUsd, costSource) => {
    const billed = costUsage(reported, price);

    expect(billed).toMatchObject({
      promptTokens: reported.promptTokens,
      completionTokens: reported.completionTokens,
      totalTokens: reported.totalTokens,
      costSource,
    });
    if (costUsd === null) expect(billed?.costUsd).toBeNull();
    else expect(billed?.costUsd).toBeCloseTo(costUsd, 12);
  });

  it('has no usage to cost when the provider reported none', () => {
    expect(costUsage(null, CHEAP)).toBeNull();
  });

  it('keeps full float precision instead of rounding to cents', () => {
    const billed = costUsage(usage(1, 1), CHEAP);
    expect(billed?.costUsd).toBeCloseTo(0.00000075, 15);
  });
});

describe('compressionSavings', () => {
  const compressed = { originTokens: 10_000, compressedTokens: 2_500 };

  it.each([
    ['prices the tokens removed at the input price', compressed, CHEAP, 7_500, 0.001125, 'catalog'],
    ['after a fallback to a pricier model, prices them at that model', compressed, PRICEY, 7_500, 0.0225, 'catalog'],
    ['nothing removed saves nothing', { originTokens: 40, compressedTokens: 40 }, PRICEY, 0, 0, 'catalog'],
    ['a model the catalog does not price saves tokens but no known money', compressed, undefined, 7_500, null, null],
    [
      'a compression that grew the prompt saves a negative amount',
      { originTokens: 10, compressedTokens: 12 },
      PRICEY,
      -2,
      -0.000006,
      'catalog',
    ],
  ] as const)('%s', (_name, compression, price, tokens, usd, priceSource) => {
    const savings = compressionSavings(compression, price);

    expect(savings).toMatchObject({ tokens, priceSource });
    if (usd === null) expect(savings?.usd).toBeNull();
    else expect(savings?.usd).toBeCloseTo(usd, 12);
  });

  it('is null when nothing was compressed', () => {
    expect(compressionSavings(null, CHEAP)).toBeNull();
  });
});

describe('priceOf', () => {
  it("finds a model's price by provider and model, and nothing for an unlisted pair", () => {
    const catalog = loadCatalog();
    const [listed] = catalog.models;

    expect(listed && priceOf(catalog, listed)).toEqual(listed?.price);
    expect(priceOf(catalog, { provider: 'groq', model: 'no-such-model' })).toBeUndefined();
    expect(priceOf(catalog, { provider: 'no-such-provider', model: listed?.model ?? '' })).toBeUndefined();
  });
});
