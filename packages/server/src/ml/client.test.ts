import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closedPort, startReplayUpstream } from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import { streamChat } from '../providers/chat-stream.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import { createMlClient, mlClientOptions } from './client.ts';

const TOKEN = 'ml-token-0123456789abcdef';
const classification = {
  labels: [{ label: 'code', score: 0.9 }],
  top_category: 'code',
  confidence: 0.9,
  backend: 'embedding',
  model: 'm',
  elapsed_ms: 1,
};

// A stand-in for the Python service: records headers, answers as told.
let server: Server;
let url: string;
let seen: IncomingHttpHeaders[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: classification };
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    const body = req.url === '/readyz' ? { ready: true, models: {} } : answer.body;
    res.writeHead(req.url === '/readyz' ? 200 : answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => {
  seen = [];
  answer = { status: 200, body: classification };
});
afterAll(() => {
  server.close();
});

const classify = (ml: ReturnType<typeof createMlClient>) =>
  ml.classify({ prompt: 'Write a parser.', multiLabel: false }, { requestId: 'r1' });

describe('the ML service token', () => {
  it('is sent as a bearer token on every call, readiness included', async () => {
    const ml = createMlClient(mlClientOptions(loadConfig({ ML_SERVICE_URL: url, ML_SERVICE_TOKEN: TOKEN })));

    await classify(ml);
    await ml.readiness();

    expect(seen.map((headers) => headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
  });

  it('is not sent when ML_SERVICE_TOKEN is unset', async () => {
    const ml = createMlClient(mlClientOptions(loadConfig({ ML_SERVICE_URL: url })));

    await classify(ml);

    expect(seen[0]?.authorization).toBeUndefined();
  });

  it("is the local provider's API key too, since the service guards its /v1 with it", async () => {
    const service = await startReplayUpstream({ fixture: 'openrouter-streaming-reasoning' });
    try {
      const config = loadConfig({ ML_SERVICE_URL: service.baseURL.replace(/\/v1$/, ''), ML_SERVICE_TOKEN: TOKEN });
      const stream = streamChat({
        target: createProviderRegistry(config).resolve({ model: 'local/smollm2-135m-instruct' }),
        body: { messages: [{ role: 'user', content: 'hi' }] },
        timeouts: { firstTokenMs: 5000, idleMs: 5000 },
        signal: new AbortController().signal,
      });
      for await (const _delta of stream) {
        // drain
      }

      expect(service.requests.map((request) => request.authorization)).toEqual([`Bearer ${TOKEN}`]);
    } finally {
      await service.close();
    }
  });

  it('never appears in an error, even when the service echoes it', async () => {
    answer = { status: 401, body: { detail: `bad token Bearer ${TOKEN}` } };
    const ml = createMlClient(mlClientOptions(loadConfig({ ML_SERVICE_URL: url, ML_SERVICE_TOKEN: TOKEN })));

    const error = await classify(ml).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'BAD_GATEWAY', message: expect.stringMatching(/ML_SERVICE_TOKEN must match/) });
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(TOKEN);
    expect(String((error as Error).message)).not.toContain(TOKEN);
  });

  it('must be at least 16 characters, and the configuration error does not show it', () => {
    expect(() => loadConfig({ ML_SERVICE_TOKEN: 'short-secret' })).toThrow(/ML_SERVICE_TOKEN/);
    expect(() => loadConfig({ ML_SERVICE_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });
});

describe('the circuit breaker of the ML service', () => {
  it('opens after repeated connection failures, and classify then fails fast', async () => {
    const port = await closedPort();
    const ml = createMlClient({
      baseUrl: `http://127.0.0.1:${port}`,
      timeoutMs: 1000,
      breaker: { failureThreshold: 2, cooldownMs: 30_000 },
    });
    for (let i = 0; i < 2; i += 1) {
      await expect(classify(ml)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    }

    const started = performance.now();
    const error = await classify(ml).catch((caught: unknown) => caught);

    expect(performance.now() - started).toBeLessThan(50);
    expect(error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The ML service is failing (circuit open after 2 consecutive failures); retrying in 30 s.',
      cause: { details: { provider: 'ml-service', retryAfterMs: expect.any(Number) } },
    });
    expect(ml.breaker()).toMatchObject({ state: 'open', failures: 2 });
  });

  it('does not count input the service refuses', async () => {
    answer = { status: 422, body: { detail: 'prompt too long' } };
    const ml = createMlClient({ baseUrl: url, timeoutMs: 1000, breaker: { failureThreshold: 1, cooldownMs: 30_000 } });

    await expect(classify(ml)).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    expect(ml.breaker()).toEqual({ state: 'closed', failures: 0, retryInMs: null });
  });
});
