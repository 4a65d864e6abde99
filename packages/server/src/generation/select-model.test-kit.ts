// What the selectModel unit tests share: catalog entries, an ML client stub, and a run to the end.
import type { MlClient } from '../ml/client.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { SelectModelEvent } from './events.ts';
import type { SelectModelInput } from './input.ts';
import { runSelectModel } from './select-model.ts';

/** A catalog entry ranked `rank` for the default category `general`. */
export const catalogModel = (
  provider: string,
  model: string,
  rank: number,
  price = { inputPerMTok: 0, outputPerMTok: 0 },
) => ({
  provider,
  model,
  categories: { general: rank },
  contextWindow: 100_000,
  price,
  supportsReasoning: false,
  supportsTools: false,
  supportsVision: false,
  supportsStructuredOutputs: false,
  supportsJsonMode: true,
});

/** An ML client whose classification is unavailable (routing then uses the default category). */
export function stubMl(overrides: Partial<MlClient> = {}): MlClient {
  const unavailable = () => Promise.reject(new Error('ML service down'));
  return {
    classify: unavailable,
    compress: unavailable,
    readiness: async () => ({ ready: false, error: 'down' }),
    breaker: () => ({ state: 'closed', failures: 0, retryInMs: null }),
    ...overrides,
  };
}

/** Every event of one selectModel run. */
export async function collectSelectModel(
  input: SelectModelInput,
  deps: { registry: ProviderRegistry; ml: MlClient; catalog: Catalog },
): Promise<SelectModelEvent[]> {
  const events: SelectModelEvent[] = [];
  const stream = runSelectModel(input, {
    ...deps,
    policy: { confidenceThreshold: 0.3, defaultMaxTokens: 256 },
    classifyTimeoutMs: 1000,
    timeouts: { firstTokenMs: 5000, idleMs: 5000 },
    requestId: 'r1',
    signal: new AbortController().signal,
  });
  for await (const event of stream) events.push(event);
  return events;
}
