import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReplayUpstream, startReplayUpstream } from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import { type ChatDelta, streamChat } from './chat-stream.ts';
import { createProviderRegistry } from './registry.ts';

let upstream: ReplayUpstream;
beforeAll(async () => {
  upstream = await startReplayUpstream();
});
afterAll(() => upstream.close());

const sse = (...events: unknown[]) =>
  `${events.map((event) => `data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`).join('')}`;
const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices,
  ...extra,
});

/** The deltas streamChat relays for this upstream body, up to a failure, and the failure. */
async function deltasUntilFailure(body: string, coalesce?: () => boolean) {
  upstream.use({ body });
  const config = loadConfig({ TOKENFLOW_PROVIDER_T_BASE_URL: upstream.baseURL });
  const target = createProviderRegistry(config).resolve({ model: 'm', provider: 't' });
  const deltas: ChatDelta[] = [];
  const stream = streamChat({
    target,
    body: { messages: [{ role: 'user', content: 'hi' }] },
    timeouts: { firstTokenMs: 5000, idleMs: 5000 },
    signal: new AbortController().signal,
    coalesce,
  });
  try {
    for await (const delta of stream) deltas.push(delta);
  } catch (error) {
    return { deltas, error };
  }
  return { deltas, error: null };
}

async function deltasFor(body: string, coalesce?: () => boolean) {
  const { deltas, error } = await deltasUntilFailure(body, coalesce);
  if (error) throw error;
  return deltas;
}

describe('streamChat reads the wire shapes providers really send', () => {
  it('skips chunks with empty choices and reads an OpenAI-style usage chunk that has none', async () => {
    const deltas = await deltasFor(
      sse(
        chunk([]), // Azure-style prompt-filter chunk
        chunk([{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }]),
        chunk([{ index: 0, delta: { content: 'lo' }, finish_reason: null }]),
        chunk([{ index: 0, delta: {}, finish_reason: 'length' }]),
        chunk([], { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }),
        '[DONE]',
      ),
    );
    expect(deltas).toEqual([
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
      { type: 'finish', reason: 'length' },
      { type: 'usage', usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5, costUsd: null } },
    ]);
  });

  it('reads reasoning_content (DeepSeek style) as reasoning', async () => {
    const deltas = await deltasFor(
      sse(
        chunk([{ index: 0, delta: { reasoning_content: 'think' }, finish_reason: null }]),
        chunk([{ index: 0, delta: { content: 'answer' }, finish_reason: 'stop' }]),
        '[DONE]',
      ),
    );
    expect(deltas).toEqual([
      { type: 'reasoning', text: 'think' },
      { type: 'text', text: 'answer' },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('ignores SSE comment lines between events', async () => {
    const deltas = await deltasFor(
      `: keep-alive\n\n${sse(chunk([{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }]))}: bye\n\ndata: [DONE]\n\n`,
    );
    expect(deltas).toEqual([
      { type: 'text', text: 'x' },
      { type: 'finish', reason: 'stop' },
    ]);
  });
});

describe('streamChat when the client is behind', () => {
  const text = (content: string) => chunk([{ index: 0, delta: { content }, finish_reason: null }]);
  const body = sse(
    text('Hel'),
    text('lo'),
    chunk([{ index: 0, delta: { reasoning: 'hm' }, finish_reason: null }]),
    text(', wor'),
    text('ld'),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '' } }] } }]),
    chunk([{ index: 0, delta: { content: '!' }, finish_reason: 'stop' }]),
    '[DONE]',
  );

  it('joins consecutive text deltas that arrived together, in order, and nothing else', async () => {
    expect(await deltasFor(body, () => true)).toEqual([
      { type: 'text', text: 'Hello' },
      { type: 'reasoning', text: 'hm' },
      { type: 'text', text: ', world' },
      { type: 'toolCall', index: 0, id: 'c', name: 'f', argumentsDelta: '' },
      { type: 'text', text: '!' },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('keeps every upstream delta an event of its own while the client keeps up', async () => {
    const deltas = await deltasFor(body, () => false);
    expect(deltas.filter((d) => d.type === 'text').map((d) => d.text)).toEqual(['Hel', 'lo', ', wor', 'ld', '!']);
  });

  it('relays the text that came before a mid-stream error, then fails', async () => {
    const failing = sse(text('a'), text('b'), { error: { message: 'overloaded', code: 503 } });
    for (const behind of [true, false]) {
      const { deltas, error } = await deltasUntilFailure(failing, () => behind);
      expect(deltas.map((d) => (d.type === 'text' ? d.text : d.type)).join('')).toBe('ab');
      expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    }
  });
});

describe('the idle timeout', () => {
  it('is not held off by comments: a provider that only sends ": keep-alive" mid-answer times out', async () => {
    const text = chunk([{ index: 0, delta: { content: 'a' }, finish_reason: null }]);
    upstream.use({ body: sse(text) + ': keep-alive\n\n'.repeat(20), eventDelayMs: 50 });
    const config = loadConfig({ TOKENFLOW_PROVIDER_T_BASE_URL: upstream.baseURL });
    const stream = streamChat({
      target: createProviderRegistry(config).resolve({ model: 'm', provider: 't' }),
      body: { messages: [{ role: 'user', content: 'hi' }] },
      timeouts: { firstTokenMs: 5000, idleMs: 200 },
      signal: new AbortController().signal,
    });
    const deltas: ChatDelta[] = [];
    const error = await (async () => {
      for await (const delta of stream) deltas.push(delta);
    })().catch((caught: unknown) => caught);
    expect(deltas).toEqual([{ type: 'text', text: 'a' }]);
    expect(error).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('GENERATE_IDLE_TIMEOUT_MS') });
  });
});
