import { expectedFrom, hashApiKey, RECORDINGS, type RecordingName } from '@tokenflow/server/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenFlowClient, type GenerateEvent, streamGenerate, type TokenFlowClient } from './index.ts';
import { type Stack, startStack } from './test/stack.ts';

// Each key streams on its own; only their hashes go into the gateway's configuration.
const KEYS = {
  alice: 'tf_alice-accounting-0000000000000000000000000000000',
  carol: 'tf_carol-accounting-0000000000000000000000000000000',
  dave: 'tf_dave-accounting-00000000000000000000000000000000',
} as const;
type KeyName = keyof typeof KEYS;

const providerOf = (name: RecordingName) => (name.startsWith('groq') ? 'groq' : 'openrouter');
// Known prices for the recordings' model ids. OpenRouter's are listed too, to show its reported cost wins.
const PRICES: Record<RecordingName, { inputPerMTok: number; outputPerMTok: number }> = {
  'groq-thinking-part-iter-0': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  'groq-thinking-part-iter-1': { inputPerMTok: 0.075, outputPerMTok: 0.3 },
  'openrouter-stream-with-native-options': { inputPerMTok: 3, outputPerMTok: 15 },
  'openrouter-streaming-reasoning': { inputPerMTok: 1, outputPerMTok: 4 },
};
const CATALOG = {
  defaultCategory: 'general',
  models: RECORDINGS.map((name) => ({
    provider: providerOf(name),
    model: name,
    categories: { general: 1 },
    contextWindow: 131_072,
    price: PRICES[name],
  })),
};

/** What the end event must say a recording cost: the provider's figure, else catalog price × tokens. */
function expectedCost(name: RecordingName) {
  const usage = expectedFrom(name).usage;
  if (!usage) throw new Error(`${name} has no usage chunk`);
  if (usage.costUsd !== null) return { usage, costUsd: usage.costUsd, costSource: 'provider' as const };
  const price = PRICES[name];
  const costUsd = (usage.promptTokens * price.inputPerMTok + usage.completionTokens * price.outputPerMTok) / 1e6;
  return { usage, costUsd, costSource: 'catalog' as const };
}

let stack: Stack;
const clients: TokenFlowClient[] = [];
const clientFor = (key: KeyName) => {
  const client = createTokenFlowClient({ url: stack.gateway.url, apiKey: KEYS[key], WebSocket });
  clients.push(client);
  return client;
};

async function endOf(client: TokenFlowClient, name: RecordingName) {
  let end: Extract<GenerateEvent, { type: 'end' }> | null = null;
  for await (const event of streamGenerate(client, { prompt: 'Alfajores?', model: name, provider: providerOf(name) })) {
    if (event.type === 'end') end = event;
  }
  if (!end) throw new Error(`${name}: the stream ended without an end event`);
  return end;
}

beforeAll(async () => {
  stack = await startStack(
    {
      TOKENFLOW_API_KEYS: JSON.stringify(Object.entries(KEYS).map(([name, key]) => ({ name, hash: hashApiKey(key) }))),
    },
    { catalog: CATALOG },
  );
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await stack?.close();
});

describe('the end event prices every recorded stream', () => {
  it.each(RECORDINGS)(
    '%s: tokens equal the usage chunk, cost is the provider’s or catalog price × tokens',
    async (name) => {
      const { usage, costUsd, costSource } = expectedCost(name);

      const end = await endOf(clientFor('alice'), name);

      expect(end).toMatchObject({ provider: providerOf(name), model: name });
      expect(end.usage).toMatchObject({
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
        totalTokens: usage.totalTokens,
        costSource,
      });
      expect(end.usage?.costUsd).toBeCloseTo(costUsd, 12);
    },
  );
});

describe('the usage query', () => {
  it('returns each key’s exact totals and per-model rows, and never another key’s', async () => {
    const carolRuns: RecordingName[] = [...RECORDINGS, 'groq-thinking-part-iter-0'];
    const daveRuns: RecordingName[] = ['openrouter-streaming-reasoning'];
    const carol = clientFor('carol');
    const dave = clientFor('dave');
    for (const name of carolRuns) await endOf(carol, name);
    for (const name of daveRuns) await endOf(dave, name);

    const carolUsage = await carol.trpc.usage.query();
    const daveUsage = await dave.trpc.usage.query();

    const sum = (runs: RecordingName[], pick: (name: RecordingName) => number) =>
      runs.reduce((total, name) => total + pick(name), 0);
    const expectTotals = (report: typeof carolUsage, runs: RecordingName[]) => {
      expect(report.totals).toMatchObject({
        requests: runs.length,
        promptTokens: sum(runs, (n) => expectedCost(n).usage.promptTokens),
        completionTokens: sum(runs, (n) => expectedCost(n).usage.completionTokens),
        totalTokens: sum(runs, (n) => expectedCost(n).usage.totalTokens),
        unpricedRequests: 0,
        tokensSaved: 0,
        usdSaved: 0,
      });
      expect(report.totals.costUsd).toBeCloseTo(
        sum(runs, (n) => expectedCost(n).costUsd),
        12,
      );
    };

    expect(carolUsage.key).toBe('carol');
    expect(Date.parse(carolUsage.since)).toBeLessThanOrEqual(Date.now());
    expectTotals(carolUsage, carolRuns);
    expect(carolUsage.byModel).toHaveLength(RECORDINGS.length);
    const twice = carolUsage.byModel.find((row) => row.model === 'groq-thinking-part-iter-0');
    expect(twice).toMatchObject({ provider: 'groq', requests: 2 });
    expect(twice?.costUsd).toBeCloseTo(2 * expectedCost('groq-thinking-part-iter-0').costUsd, 12);

    const carolBySurface = await carol.trpc.usage.query({ groupBy: ['surface', 'procedure'] });
    expect(carolBySurface.groups.map((g) => `${g.surface} ${g.procedure} ${g.requests}`)).toEqual([
      `ws generate ${carolRuns.length}`,
    ]);
    expect(carolUsage.latency.ttftMs?.p50).toBeGreaterThan(0);

    expect(daveUsage.key).toBe('dave');
    expectTotals(daveUsage, daveRuns);
    expect(daveUsage.byModel.map((row) => `${row.provider}/${row.model}`)).toEqual([
      'openrouter/openrouter-streaming-reasoning',
    ]);
  });

  it('is served on the REST layer as GET /api/usage for the bearer key, and refused without one', async () => {
    const rest = (key?: string) =>
      fetch(`${stack.gateway.url}/api/usage`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    const alice = clientFor('alice');
    await endOf(alice, 'openrouter-streaming-reasoning');

    const response = await rest(KEYS.alice);
    const anonymous = await rest();

    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ key: 'alice', totals: { requests: expect.any(Number) } });
    expect(body.totals.requests).toBeGreaterThanOrEqual(1);
    expect(body).toEqual(await alice.trpc.usage.query());
    expect(anonymous.status).toBe(401);
  });
});
