import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedFrom, type ReplayUpstream, startReplayUpstream } from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import type { MlClient } from '../ml/client.ts';
import type { CompressResult } from '../ml/schemas.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { SelectModelEvent } from './events.ts';
import type { SelectModelInput } from './input.ts';
import { runSelectModel } from './select-model.ts';

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

const catalogModel = (provider: string, rank: number, price: typeof CHEAP) => ({
  provider,
  model: RECORDING,
  categories: { general: rank },
  contextWindow: 100_000,
  price,
  supportsReasoning: false,
  supportsTools: false,
});
const catalog: Catalog = {
  defaultCategory: 'general',
  models: [catalogModel('cheap', 1, CHEAP), catalogModel('pricey', 2, PRICEY)],
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
const ml: MlClient = {
  classify: () => Promise.reject(new Error('ML service down')),
  compress: async () => COMPRESSED,
  readiness: async () => ({ ready: false, error: 'down' }),
  breaker: () => ({ state: 'closed', failures: 0, retryInMs: null }),
};

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
  const events: SelectModelEvent[] = [];
  const stream = runSelectModel(input, {
    registry: registry(),
    ml,
    catalog,
    policy: { confidenceThreshold: 0.3, defaultMaxTokens: 256 },
    classifyTimeoutMs: 1000,
    timeouts: { firstTokenMs: 5000, idleMs: 5000 },
    requestId: 'r1',
    signal: new AbortController().signal,
  });
  for await (const event of stream) events.push(event);
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
