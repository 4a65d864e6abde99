import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedFrom, type ReplayUpstream, startReplayUpstream } from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import type { MlClient } from '../ml/client.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { SelectModelEvent } from './events.ts';
import { runSelectModel } from './select-model.ts';

const RECORDING = 'openrouter-stream-with-native-options';

let first: ReplayUpstream;
let second: ReplayUpstream;
beforeAll(async () => {
  [first, second] = await Promise.all([startReplayUpstream(), startReplayUpstream()]);
});
afterAll(() => Promise.all([first.close(), second.close()]));

const catalogModel = (provider: string, rank: number) => ({
  provider,
  model: RECORDING,
  categories: { general: rank },
  contextWindow: 100_000,
  price: { inputPerMTok: 0, outputPerMTok: 0 },
  supportsReasoning: false,
  supportsTools: false,
});
const catalog: Catalog = { defaultCategory: 'general', models: [catalogModel('first', 1), catalogModel('second', 2)] };

// Classification is unavailable, so routing uses the default category: no Python service needed.
const unavailable = () => Promise.reject(new Error('ML service down'));
const ml: MlClient = {
  classify: unavailable,
  compress: unavailable,
  readiness: async () => ({ ready: false, error: 'down' }),
  breaker: () => ({ state: 'closed', failures: 0, retryInMs: null }),
};

async function collect(registry: ReturnType<typeof createProviderRegistry>) {
  const events: SelectModelEvent[] = [];
  const stream = runSelectModel(
    { prompt: 'hi' },
    {
      registry,
      ml,
      catalog,
      policy: { confidenceThreshold: 0.3, defaultMaxTokens: 256 },
      classifyTimeoutMs: 1000,
      timeouts: { firstTokenMs: 5000, idleMs: 5000 },
      requestId: 'r1',
      signal: new AbortController().signal,
    },
  );
  for await (const event of stream) events.push(event);
  return events;
}

describe('selectModel with circuit breakers', () => {
  it('falls back to the next candidate without calling a provider whose breaker is open', async () => {
    const registry = createProviderRegistry(
      loadConfig({
        TOKENFLOW_PROVIDER_FIRST_BASE_URL: first.baseURL,
        TOKENFLOW_PROVIDER_SECOND_BASE_URL: second.baseURL,
        LOCAL_PROVIDER: 'off',
        BREAKER_FAILURE_THRESHOLD: '1',
        UPSTREAM_RETRY_ATTEMPTS: '0',
      }),
    );
    first.use({ fault: { kind: 'status', status: 503 } });
    second.use({ fixture: RECORDING });
    await collect(registry); // the 503 opens the first provider's breaker
    expect(first.requests).toHaveLength(1);

    const events = await collect(registry);

    expect(events.find((e) => e.type === 'fallback')).toMatchObject({
      from: { provider: 'first' },
      to: { provider: 'second' },
      code: 'SERVICE_UNAVAILABLE',
      reason: expect.stringMatching(/^Provider "first" is failing \(circuit open after 1 consecutive failures\)/),
    });
    const text = events.map((e) => (e.type === 'text' ? e.text : '')).join('');
    expect(text).toBe(expectedFrom(RECORDING).content);
    expect(events.at(-1)).toMatchObject({ type: 'end' });
    expect(first.requests).toHaveLength(1);
  });
});
