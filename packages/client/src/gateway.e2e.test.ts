import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenFlowClient, streamGenerate, type TokenFlowError, TRPCClientError } from './index.ts';
import { type Stack, startStack } from './test/stack.ts';
import { startTcpProxy } from './test/tcp-proxy.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('the gateway host', () => {
  it('answers the health query over HTTP through the typed client', async () => {
    stack = await startStack();
    const health = await stack.client.trpc.health.query();
    expect(health.status).toBe('ok');
    expect(health.providers).toEqual(
      expect.arrayContaining([
        { name: 'groq', configured: true },
        { name: 'openrouter', configured: true },
      ]),
    );
  });

  it('serves /healthz and /readyz as plain JSON, and 404 elsewhere', async () => {
    stack = await startStack();
    const healthz = await fetch(`${stack.gateway.url}/healthz`);
    expect([healthz.status, await healthz.json()]).toEqual([200, { status: 'ok' }]);
    // No ML service runs in this stack, so the gateway is alive but not ready.
    const readyz = await fetch(`${stack.gateway.url}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toMatchObject({
      ready: false,
      checks: { config: 'ok', shutdown: 'ok', mlService: expect.stringMatching(/not reachable/) },
    });
    const missing = await fetch(`${stack.gateway.url}/nope`);
    expect(missing.status).toBe(404);
  });

  it('batches several queries into one HTTP request', async () => {
    stack = await startStack();
    const [a, b] = await Promise.all([stack.client.trpc.health.query(), stack.client.trpc.health.query()]);
    expect(a.status).toBe('ok');
    expect(b.status).toBe('ok');
  });

  it('closes a WebSocket that sends a message larger than WS_MAX_PAYLOAD_BYTES (1009)', async () => {
    stack = await startStack({ WS_MAX_PAYLOAD_BYTES: '2048' });
    const socket = new WebSocket(`${stack.gateway.url.replace('http', 'ws')}/trpc`);
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send('x'.repeat(10_000));
    expect(await closed).toBe(1009);
  });

  it('queries and streams with an apiKey set (bearer header over HTTP, connection params over WebSocket)', async () => {
    const live = await startStack();
    stack = live;
    const client = createTokenFlowClient({ url: live.gateway.url, apiKey: 'tf-test-key', WebSocket });
    try {
      expect((await client.trpc.health.query()).status).toBe('ok');
      let last = '';
      for await (const event of streamGenerate(client, {
        prompt: 'hi',
        model: 'openrouter/openrouter-streaming-reasoning',
      })) {
        last = event.type;
      }
      expect(last).toBe('end');
    } finally {
      await client.close();
    }
  });

  it('requires a WebSocket implementation in Node 20 and says how to pass one', () => {
    const original = globalThis.WebSocket;
    // @ts-expect-error simulate Node 20, which has no global WebSocket
    delete globalThis.WebSocket;
    try {
      expect(() => createTokenFlowClient({ url: 'http://127.0.0.1:1' })).toThrow(
        /pass `WebSocket` from the 'ws' package/,
      );
    } finally {
      if (original) globalThis.WebSocket = original;
    }
  });
});

describe('graceful shutdown', () => {
  it('lets running streams finish, reports not ready, and refuses new work', async () => {
    const live = await startStack();
    stack = live;
    stack.upstream.use({ eventDelayMs: 2 });
    const url = stack.gateway.url;
    const texts: string[] = [];
    let lastType = '';
    const running = (async () => {
      for await (const event of streamGenerate(live.client, {
        prompt: 'hi',
        model: 'groq/groq-thinking-part-iter-0',
      })) {
        if (event.type === 'text') texts.push(event.text);
        lastType = event.type;
      }
    })();
    await expect.poll(() => texts.length).toBeGreaterThan(5);

    const closing = stack.gateway.close();
    expect(stack.gateway.gateway.lifecycle.draining).toBe(true);

    await running;
    await closing;
    expect(lastType).toBe('end');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('during a rolling deploy, finishes running streams on the old gateway and sends new ones to the new', async () => {
    const oldStack = await startStack();
    stack = oldStack;
    const newStack = await startStack();
    const proxy = await startTcpProxy(Number(new URL(oldStack.gateway.url).port));
    const client = createTokenFlowClient({ url: proxy.url, WebSocket });
    try {
      oldStack.upstream.use({ eventDelayMs: 2 });
      const events: string[] = [];
      const running = (async () => {
        for await (const event of streamGenerate(client, { prompt: 'hi', model: 'groq/groq-thinking-part-iter-0' })) {
          events.push(event.type);
        }
      })();
      await expect.poll(() => events.length).toBeGreaterThan(5);

      proxy.switchTo(Number(new URL(newStack.gateway.url).port));
      const closing = oldStack.gateway.close();
      await running;
      await closing;

      expect(events.at(-1)).toBe('end');
      expect(events.filter((type) => type === 'metadata')).toHaveLength(1);
      let last = '';
      for await (const event of streamGenerate(client, {
        prompt: 'hi',
        model: 'openrouter/openrouter-streaming-reasoning',
      })) {
        last = event.type;
      }
      expect(last).toBe('end');
      expect(newStack.upstream.requests).toHaveLength(1);
    } finally {
      await client.close();
      await proxy.close();
      await newStack.close();
    }
  });

  it('ends a stream cut by the shutdown grace period with a clear error, never a hang or repeated text', async () => {
    const live = await startStack({ SHUTDOWN_GRACE_MS: '200' });
    stack = live;
    stack.upstream.use({ eventDelayMs: 5 });
    let metadataEvents = 0;
    const consuming = (async () => {
      for await (const event of streamGenerate(live.client, {
        prompt: 'hi',
        model: 'groq/groq-thinking-part-iter-0',
      })) {
        if (event.type === 'metadata' && ++metadataEvents === 1) void live.gateway.close();
      }
    })();

    const upstreamAborted = live.upstream.nextAbort();
    await expect(consuming).rejects.toThrow(/connection to the gateway was lost mid-stream/);
    expect(metadataEvents).toBe(1);
    // Cut cleanly: the provider's request is aborted too, not left streaming into nothing.
    await upstreamAborted;
    expect(live.upstream.abortedStreams).toBe(1);
  });

  it('rejects a new subscription while draining with SERVICE_UNAVAILABLE', async () => {
    const live = await startStack();
    stack = live;
    stack.upstream.use({ eventDelayMs: 2 });
    const running = streamGenerate(stack.client, { prompt: 'hi', model: 'groq/groq-thinking-part-iter-0' });
    const iterator = running[Symbol.asyncIterator]();
    await iterator.next();
    const closing = stack.gateway.close();

    const readyz = await stack.client.trpc.health.query().catch((error: unknown) => error);
    // The listening socket is closed, but the open WebSocket still carries requests.
    const refused = await (async () => {
      try {
        for await (const _ of streamGenerate(live.client, {
          prompt: 'hi',
          model: 'groq/groq-thinking-part-iter-0',
        })) {
          // nothing: the first event must already fail
        }
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TokenFlowError).data?.code).toBe('SERVICE_UNAVAILABLE');
    expect(readyz).toBeDefined();
    await iterator.return?.();
    await closing;
  });
});
