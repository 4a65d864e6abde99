import { createHash } from 'node:crypto';
import { createTokenFlowClient, streamGenerate } from '@tokenflow/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { checkCase } from './harness/check.ts';
import { openRawSocket, type RawSocket, subscriptionMessage } from './harness/raw-socket.ts';
import { codeOf, type FaultStack, GROQ_MODEL, runStream, startFaultStack } from './harness/stack.ts';

const WS_MAX_PAYLOAD_BYTES = 64 * 1024;
const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
const SHORT_ANSWER = `${chunk('Alfajores ')}${chunk('are ')}${chunk('cookies.')}${chunk('', 'stop')}data: [DONE]\n\n`;
const input = { prompt: 'Tell me about alfajores.', ...GROQ_MODEL };

let stack: FaultStack;

beforeAll(async () => {
  stack = await startFaultStack();
});
afterAll(() => stack?.close());
afterEach(() => {
  stack.upstream.use({});
  stack.upstream.requests.length = 0;
});

describe('a client that goes away', () => {
  it('aborts the upstream request within 100 ms when the client drops its connection mid-stream', async () => {
    stack.upstream.use({ eventDelayMs: 10 });
    let abortMs = Number.POSITIVE_INFINITY;

    await checkCase('client', null, stack.alive, async () => {
      const socket = await openRawSocket(stack.gateway.url);
      socket.send(subscriptionMessage(1, 'generate', input));
      await socket.waitFor((m) => m.id === 1 && (m.result as { type?: string } | undefined)?.type === 'data', 5);
      const aborted = stack.upstream.nextAbort();
      const dropped = performance.now();
      socket.ws.terminate();
      await aborted;
      abortMs = performance.now() - dropped;
      await expect.poll(() => stack.gateway.gateway.lifecycle.activeStreams).toBe(0);
      return null;
    });

    expect(abortMs).toBeLessThan(100);
  });

  it('survives 1,000 subscribe/unsubscribe cycles on one connection with no leak and no stream left running', async () => {
    stack.upstream.use({ eventDelayMs: 2 });
    const client = stack.newClient();

    await checkCase(
      'client',
      null,
      stack.alive,
      async () => {
        for (let cycle = 0; cycle < 1000; cycle += 1) {
          // Half leave after the first event, half before anything arrives.
          for await (const _event of streamGenerate(client, input)) break;
          if (cycle % 2 === 0) continue;
          const subscription = client.trpc.generate.subscribe(input, { onData: () => {} });
          subscription.unsubscribe();
        }
        await expect.poll(() => stack.gateway.gateway.lifecycle.activeStreams, { timeout: 5000 }).toBe(0);
        await client.close();
        stack.upstream.requests.length = 0;
        return null;
      },
      { deadlineMs: 60_000 },
    );
  }, 90_000);

  it('ends or refuses every one of 500 subscriptions opened at once on one connection, none hangs', async () => {
    // A short answer each, so the case measures 500 concurrent streams, not 500 long ones.
    stack.upstream.use({ body: SHORT_ANSWER });
    const client = stack.newClient();
    const codes = new Map<string, number>();

    await checkCase(
      'client',
      null,
      stack.alive,
      async () => {
        const streams = Array.from({ length: 500 }, () =>
          runStream(client.trpc.generate, input).then(({ code }) => {
            codes.set(String(code), (codes.get(String(code)) ?? 0) + 1);
          }),
        );
        await Promise.all(streams);
        await client.close();
        stack.upstream.requests.length = 0;
        return null;
      },
      { deadlineMs: 60_000 },
    );

    // Every stream ended with its end event (null) or a tRPC code; none was cut or lost.
    expect([...codes.keys()].every((code) => code === 'null' || /^[A-Z_]+$/.test(code))).toBe(true);
    expect(codes.get('STREAM_CUT') ?? 0).toBe(0);
    expect(stack.gateway.gateway.lifecycle.activeStreams).toBe(0);
  }, 90_000);
});

describe('malformed WebSocket frames', () => {
  let socket: RawSocket;

  beforeAll(async () => {
    socket = await openRawSocket(stack.gateway.url);
  });
  afterAll(() => socket?.ws.close());

  it.each([
    { name: 'text that is not JSON', frame: 'hello, gateway', code: 'PARSE_ERROR' },
    { name: 'a JSON value that is not a request', frame: '[1, 2, 3]', code: 'PARSE_ERROR' },
    {
      name: 'JSON-RPC with an unknown method',
      frame: '{"id": 7, "method": "launch", "params": {}}',
      code: 'PARSE_ERROR',
    },
    {
      name: 'a request with no id',
      frame: '{"method": "subscription", "params": {"path": "generate"}}',
      code: 'PARSE_ERROR',
    },
    { name: 'binary garbage', frame: Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x80, 0x22]), code: 'PARSE_ERROR' },
    {
      name: 'a subscription to a procedure that does not exist',
      frame: subscriptionMessage(8, 'doesNotExist', {}),
      code: 'NOT_FOUND',
    },
    {
      name: 'a subscription to a query procedure',
      frame: subscriptionMessage(9, 'modelRankings', undefined),
      code: 'NOT_FOUND',
    },
  ])(
    'answers $name with an error message ($code); the connection and the gateway stay healthy',
    async ({ frame, code }) => {
      await checkCase('client', code, stack.alive, async () => {
        const received = socket.received.length;
        socket.send(frame);
        const answer = await socket.waitFor((m) => m.error !== undefined, 1, received);
        return errorCodeOf(answer);
      });

      expect(socket.ws.readyState).toBe(WebSocket.OPEN);
      // The same connection still serves a real subscription to its end.
      socket.send(subscriptionMessage(100, 'generate', input));
      await socket.waitFor((m) => m.id === 100 && (m.result as { type?: string } | undefined)?.type === 'stopped', 1);
    },
  );
});

describe(`a gateway with WS_MAX_PAYLOAD_BYTES = ${WS_MAX_PAYLOAD_BYTES}`, () => {
  let small: FaultStack;

  beforeAll(async () => {
    small = await startFaultStack({ env: { WS_MAX_PAYLOAD_BYTES: String(WS_MAX_PAYLOAD_BYTES) } });
  });
  afterAll(() => small?.close());

  it('closes a connection that sends a message over the limit with 1009, and the gateway stays up', async () => {
    const own = await openRawSocket(small.gateway.url);
    let closeCode = 0;

    await checkCase('client', 'WS_CLOSE_1009', small.alive, async () => {
      const closed = new Promise<number>((resolve) => own.ws.once('close', resolve));
      own.send(subscriptionMessage(1, 'generate', { ...input, prompt: 'x'.repeat(WS_MAX_PAYLOAD_BYTES + 1) }));
      closeCode = await closed;
      return `WS_CLOSE_${closeCode}`;
    });

    expect(closeCode).toBe(1009);
    const client = small.newClient();
    expect((await runStream(client.trpc.generate, input)).code).toBeNull();
    await client.close();
  });

  // The tRPC client batches the 500 requests into one frame over the limit and the
  // gateway closes with 1009: each subscription must end with PAYLOAD_TOO_LARGE
  // rather than be resent for ever on a new connection.
  it('refuses 500 subscriptions whose batched frame is over the limit with PAYLOAD_TOO_LARGE, none hangs', async () => {
    small.upstream.use({ body: SHORT_ANSWER });
    const client = small.newClient();

    await checkCase(
      'client',
      'PAYLOAD_TOO_LARGE',
      small.alive,
      async () => {
        const outcomes = await Promise.all(Array.from({ length: 500 }, () => runStream(client.trpc.generate, input)));
        // The client leaves too, so what is measured is what the gateway kept.
        await client.close();
        const codes = new Set(outcomes.map((o) => o.code));
        expect([...codes]).toEqual(['PAYLOAD_TOO_LARGE']);
        return 'PAYLOAD_TOO_LARGE';
      },
      { deadlineMs: 10_000 },
    ).finally(() => client.close());
  }, 40_000);
});

describe('a client that reads too slowly', () => {
  const HIGH_WATER = 64 * 1024;
  let slow: FaultStack;
  // 6,000 events of about 2 KB, 12 MB: more than the socket buffers between the two take in.
  const LONG_ANSWER = `${Array.from({ length: 6000 }, (_, i) => chunk(`${i} ${'x'.repeat(2000)}`)).join('')}${chunk('', 'stop')}data: [DONE]\n\n`;

  beforeAll(async () => {
    slow = await startFaultStack({
      env: { WS_HIGH_WATER_BYTES: String(HIGH_WATER), SLOW_CONSUMER_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(() => slow?.close());

  it('pauses the upstream at the high-water mark, then ends the stream with TIMEOUT and aborts the upstream', async () => {
    slow.upstream.use({ body: LONG_ANSWER });
    let peakQueued = 0;
    // The gateway's side of the socket, to read how much it has queued: where it counts the stream.
    const { lifecycle } = slow.gateway.gateway;
    const started = vi.spyOn(lifecycle, 'streamStarted');

    await checkCase('client', 'TIMEOUT', slow.alive, async () => {
      const socket = await openRawSocket(slow.gateway.url);
      socket.send(subscriptionMessage(1, 'generate', input));
      // The reader stops reading: its TCP window fills and the gateway's queue for it grows.
      (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const sampling = setInterval(() => {
        for (const [s] of started.mock.calls) {
          if (s && lifecycle.hasStreams(s)) peakQueued = Math.max(peakQueued, (s as WebSocket).bufferedAmount);
        }
      }, 5);
      // Past SLOW_CONSUMER_TIMEOUT_MS the gateway gives up on this reader and aborts the upstream.
      await expect.poll(() => slow.upstream.abortedStreams, { timeout: 5000 }).toBe(1);
      clearInterval(sampling);
      (socket.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const answer = await socket.waitFor((m) => m.id === 1 && m.error !== undefined, 5);
      socket.ws.close();
      await expect.poll(() => slow.gateway.gateway.lifecycle.activeStreams).toBe(0);
      return errorCodeOf(answer);
    });

    // Held at the mark plus about one event, not the 12 MB the upstream had to send.
    expect(peakQueued).toBeGreaterThan(HIGH_WATER / 2);
    expect(peakQueued).toBeLessThan(HIGH_WATER + 8 * 1024);
  });
});

describe('a gateway with API keys', () => {
  const KEY = 'tf_fault-suite-key-000000000000000000000000000000';
  let guarded: FaultStack;

  beforeAll(async () => {
    const hash = `sha256:${createHash('sha256').update(KEY).digest('hex')}`;
    guarded = await startFaultStack({ env: { TOKENFLOW_API_KEYS: `fault:${hash}` }, apiKey: KEY });
  });
  afterAll(() => guarded?.close());

  it.each([
    { why: 'no key', apiKey: undefined },
    { why: 'a wrong key', apiKey: 'tf_wrong-key-000000000000000000000000000000000' },
  ])(
    'refuses a client with $why, over HTTP and WebSocket, with UNAUTHORIZED and nothing sent upstream',
    async ({ apiKey }) => {
      await checkCase('client', 'UNAUTHORIZED', guarded.alive, async () => {
        const client = createTokenFlowClient({ url: guarded.gateway.url, WebSocket, ...(apiKey ? { apiKey } : {}) });
        try {
          const overHttp = await client.trpc.modelRankings.query().then(
            () => null,
            (error: unknown) => codeOf(error),
          );
          const overWs = await runStream(client.trpc.generate, input);
          expect([overHttp, overWs.code]).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED']);
          expect(guarded.upstream.requests).toHaveLength(0);
          return overWs.code;
        } finally {
          await client.close();
        }
      });
    },
  );

  it('serves the right key', async () => {
    const client = guarded.newClient();
    expect((await runStream(client.trpc.generate, input)).code).toBeNull();
    await client.close();
  });
});

function errorCodeOf(message: Record<string, unknown>): string {
  const error = message.error as { json?: { data?: { code?: string } }; data?: { code?: string } };
  return error.json?.data?.code ?? error.data?.code ?? JSON.stringify(error);
}
