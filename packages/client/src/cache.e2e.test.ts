import { TOOL_RECORDINGS } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  assembleToolCalls,
  createTokenFlowClient,
  type StreamEvent,
  streamGenerate,
  type TokenFlowClient,
} from './index.ts';
import { type Stack, startStack } from './test/stack.ts';
import { CATALOG, collect, recordedTurn, SEER } from './test/tool-recordings.ts';

let stack: Stack;
let client: TokenFlowClient;

beforeAll(async () => {
  stack = await startStack({ CACHE_MODE: 'exact' }, { catalog: CATALOG });
  client = createTokenFlowClient({ url: stack.gateway.url, WebSocket });
});
afterAll(async () => {
  await client?.close();
  await stack?.close();
});

const joined = (events: StreamEvent[], type: 'text' | 'reasoning') =>
  events
    .filter((e): e is Extract<StreamEvent, { type: typeof type }> => e.type === type)
    .map((e) => e.text)
    .join('');

describe('the response cache through the typed client (WebSocket)', () => {
  it('replays a recorded answer’s reasoning and text, with the cache on metadata and end, without the upstream', async () => {
    const input = { ...SEER, prompt: 'What is a cache, in one paragraph?' };
    const first = await collect(streamGenerate(client, input));
    const calls = stack.upstream.requests.length;

    const second = await collect(streamGenerate(client, input));

    expect(stack.upstream.requests.length).toBe(calls);
    expect(joined(second, 'text')).toBe(joined(first, 'text'));
    expect(joined(second, 'reasoning')).toBe(joined(first, 'reasoning'));
    expect(second[0]).toMatchObject({ type: 'metadata', ...SEER, cache: { hit: 'exact', similarity: 1 } });
    expect(second[0]).not.toMatchObject({ requestId: (first[0] as { requestId: string }).requestId });
    const [firstEnd, secondEnd] = [first.at(-1), second.at(-1)];
    expect(secondEnd).toMatchObject({ type: 'end', cache: { hit: 'exact' } });
    expect(secondEnd).toMatchObject({
      finishReason: (firstEnd as { finishReason: string }).finishReason,
      usage: (firstEnd as { usage: object }).usage,
    });
  });

  it('replays an agent turn’s tool calls so they assemble to the same calls', async () => {
    const name = TOOL_RECORDINGS[0] as (typeof TOOL_RECORDINGS)[number];
    const { expected, input } = recordedTurn(name);
    const ask = () => collect(streamGenerate(client, { ...input, model: `openrouter/${name}` }));
    await ask();
    const calls = stack.upstream.requests.length;

    const replayed = await ask();

    expect(stack.upstream.requests.length).toBe(calls);
    expect(assembleToolCalls(replayed)).toEqual(expected.toolCalls);
    expect(replayed.at(-1)).toMatchObject({ finishReason: 'tool_calls', toolCalls: expected.toolCalls });
  });

  it('purges the key’s answers (purgeCache), and the usage report counts the hits', async () => {
    const input = { ...SEER, prompt: 'Purge me.' };
    await collect(streamGenerate(client, input));
    await collect(streamGenerate(client, input));

    expect(await client.trpc.purgeCache.mutate()).toEqual({ purged: true, scope: 'key' });
    const after = await collect(streamGenerate(client, input));

    expect(after[0]).not.toHaveProperty('cache');
    await expect.poll(async () => (await client.trpc.usage.query()).totals.cacheHits).toBeGreaterThanOrEqual(3);
  });
});
