import type { ReplayUpstream, RunningGateway } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createTokenFlowClient, streamGenerate } from './index.ts';
import { type Stack, startStack } from './test/stack.ts';

const HIGH_WATER = 64 * 1024;
// A long answer: 6,000 events of about 2 KB each, 12 MB in all, far more than socket buffers hold.
const EVENTS = 6000;
const chunk = (text: string) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
const LONG_ANSWER = [
  ...Array.from({ length: EVENTS }, (_, i) => chunk(`${i} ${'x'.repeat(2000)}`)),
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
  'data: [DONE]\n\n',
].join('');

let stack: Stack;
let upstream: ReplayUpstream;
let gateway: RunningGateway;

beforeAll(async () => {
  stack = await startStack(
    {
      WS_HIGH_WATER_BYTES: String(HIGH_WATER),
      SLOW_CONSUMER_TIMEOUT_MS: '1500',
      // The gateway's own provider timeouts: a paused reader holds the upstream stream longer than the stack's.
      GENERATE_FIRST_TOKEN_TIMEOUT_MS: undefined,
      GENERATE_IDLE_TIMEOUT_MS: undefined,
    },
    { scenario: { body: LONG_ANSWER } },
  );
  ({ upstream, gateway } = stack);
});
afterAll(async () => {
  await stack?.close();
});

/**
 * The gateway's side of every WebSocket carrying a stream, to read how much it
 * has queued: the connections the gateway counts streams on, while they have one.
 */
function streamingSockets(lifecycle: RunningGateway['gateway']['lifecycle']) {
  const started = vi.spyOn(lifecycle, 'streamStarted');
  return () =>
    [...new Set(started.mock.calls.map(([connection]) => connection))].filter(
      (connection) => connection !== null && lifecycle.hasStreams(connection),
    ) as WebSocket[];
}

describe('backpressure on WebSocket streams', () => {
  it('stops reading the upstream while a client reads nothing, then ends that stream with TIMEOUT', async () => {
    const serverSockets = streamingSockets(gateway.gateway.lifecycle);
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/trpc`);
    await new Promise((resolve) => socket.once('open', resolve));
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(String(data)));
    socket.send(
      JSON.stringify({
        id: 1,
        method: 'subscription',
        params: { path: 'generate', input: { json: { prompt: 'hi', model: 'groq/long' } } },
      }),
    );
    // A reader that has stopped: its TCP window fills, and the gateway's queue for it grows.
    (socket as unknown as { _socket: { pause(): void } })._socket.pause();
    await expect.poll(() => serverSockets().length).toBe(1);

    let peakQueued = 0;
    const aborted = upstream.nextAbort();
    const sampling = setInterval(() => {
      for (const s of serverSockets()) peakQueued = Math.max(peakQueued, s.bufferedAmount);
    }, 5);
    await aborted;
    clearInterval(sampling);

    // Held at the high-water mark plus one event, not the 12 MB the upstream had to send.
    expect(peakQueued).toBeLessThan(HIGH_WATER + 8 * 1024);
    expect(upstream.abortedStreams).toBe(1);
    (socket as unknown as { _socket: { resume(): void } })._socket.resume();
    await expect.poll(() => messages.some((m) => m.includes('SLOW_CONSUMER_TIMEOUT_MS'))).toBe(true);
    const error = JSON.parse(messages.find((m) => m.includes('SLOW_CONSUMER_TIMEOUT_MS')) ?? '{}');
    // superjson wraps the error shape in `json`.
    expect(error.error.json.data.code).toBe('TIMEOUT');
    socket.close();
  });

  it('relays the whole long answer to a client that keeps reading', async () => {
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    try {
      let texts = 0;
      let last = '';
      for await (const event of streamGenerate(client, { prompt: 'hi', model: 'groq/long' })) {
        if (event.type === 'text') texts += 1;
        last = event.type;
      }
      expect([texts, last]).toEqual([EVENTS, 'end']);
    } finally {
      await client.close();
    }
  });
});
