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

async function deltasFor(body: string) {
  upstream.use({ body });
  const config = loadConfig({ TOKENFLOW_PROVIDER_T_BASE_URL: upstream.baseURL });
  const target = createProviderRegistry(config).resolve({ model: 'm', provider: 't' });
  const deltas: ChatDelta[] = [];
  const stream = streamChat({
    target,
    body: { messages: [{ role: 'user', content: 'hi' }] },
    timeouts: { firstTokenMs: 5000, idleMs: 5000 },
    signal: new AbortController().signal,
  });
  for await (const delta of stream) deltas.push(delta);
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
