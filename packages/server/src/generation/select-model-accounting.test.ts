import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedFrom, type ReplayUpstream, startReplayUpstream } from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import type { CompressResult } from '../ml/schemas.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { SelectModelInput } from './input.ts';
import { catalogModel, collectSelectModel, stubMl } from './select-model.test-kit.ts';

// A Groq recording: its usage chunk has tokens but no cost, so the catalog prices it.
const RECORDING = 'groq-thinking-part-iter-0';
const CHEAP = { inputPerMTok: 0.1, outputPerMTok: 0.4 };
const PRICEY = { inputPerMTok: 2.5, outputPerMTok: 10 };

let cheap: ReplayUpstream;
let pricey: ReplayUpstream;
beforeAll(async () => {
  [cheap, pricey] = await Promise.all([startReplayUpstream(), startReplayUpstream()]);
});
afterAll(() => Promise.all([cheap.close(), pricey.close()]));

const catalog: Catalog = {
  defaultCategory: 'general',
  models: [catalogModel('cheap', RECORDING, 1, CHEAP), catalogModel('pricey', RECORDING, 2, PRICEY)],
};

const COMPRESSED: CompressResult = {
  compressedText: 'short prompt',
  originTokens: 12_000,
  compressedTokens: 3_000,
  ratio: 4,
  savingPercent: 75,
  method: 'stub',
  model: 'stub',
  elapsedMs: 1,
};
// Classification is unavailable (routing uses the default category); compression answers.
const ml = stubMl({ compress: async () => COMPRESSED });

const registry = () =>
  createProviderRegistry(
    loadConfig({
      TOKENFLOW_PROVIDER_CHEAP_BASE_URL: cheap.baseURL,
      TOKENFLOW_PROVIDER_PRICEY_BASE_URL: pricey.baseURL,
      LOCAL_PROVIDER: 'off',
      UPSTREAM_RETRY_ATTEMPTS: '0',
    }),
  );

async function endOf(input: SelectModelInput) {
  const events = await collectSelectModel(input, { registry: registry(), ml, catalog });
  const end = events.at(-1);
  if (end?.type !== 'end') throw new Error(`the stream ended with ${end?.type}`);
  return { end, events };
}

const usage = expectedFrom(RECORDING).usage;

describe('selectModel accounting in the end event', () => {
  it('reports the tokens compression saved at the answering model’s input price', async () => {
    cheap.use({ fixture: RECORDING });

    const { end } = await endOf({ prompt: 'a long prompt', compress: { ratio: 0.25 } });

    expect(end).toMatchObject({
      provider: 'cheap',
      model: RECORDING,
      savings: { tokens: 9_000, priceSource: 'catalog' },
    });
    expect(end.savings?.usd).toBeCloseTo((9_000 * CHEAP.inputPerMTok) / 1e6, 12);
  });

  it('after a fallback, prices the savings and the cost at the pricier model that answered', async () => {
    cheap.use({ fault: { kind: 'status', status: 503 } });
    pricey.use({ fixture: RECORDING });

    const { end, events } = await endOf({ prompt: 'a long prompt', compress: { ratio: 0.25 } });

    expect(events.some((e) => e.type === 'fallback')).toBe(true);
    expect(end).toMatchObject({ provider: 'pricey', savings: { tokens: 9_000, priceSource: 'catalog' } });
    expect(end.savings?.usd).toBeCloseTo(0.0225, 12);
    expect(end.usage).toMatchObject({
      promptTokens: usage?.promptTokens,
      completionTokens: usage?.completionTokens,
      costSource: 'catalog',
    });
    const catalogCost =
      ((usage?.promptTokens ?? 0) * PRICEY.inputPerMTok + (usage?.completionTokens ?? 0) * PRICEY.outputPerMTok) / 1e6;
    expect(end.usage?.costUsd).toBeCloseTo(catalogCost, 12);
  });

  it('has no savings when the prompt was not compressed', async () => {
    cheap.use({ fixture: RECORDING });

    const { end } = await endOf({ prompt: 'a short prompt' });

    expect(end.savings).toBeNull();
    expect(end.usage?.costSource).toBe('catalog');
  });
});
