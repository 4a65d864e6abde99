import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedFrom, type ReplayUpstream, startReplayUpstream } from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import { createProviderRegistry, type ProviderRegistry } from '../providers/registry.ts';
import type { Catalog } from '../routing/catalog.ts';
import { catalogModel, collectSelectModel, stubMl } from './select-model.test-kit.ts';

const RECORDING = 'openrouter-stream-with-native-options';

let first: ReplayUpstream;
let second: ReplayUpstream;
beforeAll(async () => {
  [first, second] = await Promise.all([startReplayUpstream(), startReplayUpstream()]);
});
afterAll(() => Promise.all([first.close(), second.close()]));

const catalog: Catalog = {
  defaultCategory: 'general',
  models: [catalogModel('first', RECORDING, 1), catalogModel('second', RECORDING, 2)],
};
// Classification is unavailable, so routing uses the default category: no Python service needed.
const ml = stubMl();
const collect = (registry: ProviderRegistry) => collectSelectModel({ prompt: 'hi' }, { registry, ml, catalog });

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
