import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closedPort, startReplayUpstream } from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import { streamChat } from '../providers/chat-stream.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import { CLASSIFY_RESPONSE } from './classify-response.fixture.ts';
import { createMlClient, mlClientOptions } from './client.ts';

const TOKEN = 'ml-token-0123456789abcdef';
const classification = CLASSIFY_RESPONSE;

// A stand-in for the Python service: records headers, answers as told.
let server: Server;
let url: string;
let seen: IncomingHttpHeaders[] = [];
let bodies: unknown[] = [];
interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}
let answer: Answer = { status: 200, body: classification };
/** Answers for the next requests, in order of arrival; `answer` once they run out. */
let planned: Answer[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (chunks.length > 0) bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    });
    if (req.url === '/readyz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ready: true, models: {} }));
      return;
    }
    const { status, body, headers, delayMs } = planned.shift() ?? answer;
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    }, delayMs ?? 0);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => {
  seen = [];
  bodies = [];
  answer = { status: 200, body: classification };
  planned = [];
});
afterAll(() => {
  server.close();
});

const classify = (ml: ReturnType<typeof createMlClient>) =>
  ml.classify({ prompt: 'Write a parser.', multiLabel: false }, { requestId: 'r1' });

describe('the classify body', () => {
  it('asks for the embedding only when the gateway itself does', async () => {
    const ml = createMlClient({ baseUrl: url, timeoutMs: 1000 });
    answer = { status: 200, body: { ...classification, embedding: [0.6, 0.8] } };

    await classify(ml);
    const result = await ml.classify({ prompt: 'Hi', multiLabel: false }, { requestId: 'r2', returnEmbedding: true });

    expect(bodies).toEqual([
      { prompt: 'Write a parser.', multi_label: false, possible_categories: null },
      { prompt: 'Hi', multi_label: false, possible_categories: null, return_embedding: true },
    ]);
    expect(result.embedding).toEqual([0.6, 0.8]);
  });
});

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

  it('names the run of failures that opened it, even after a call admitted earlier succeeded', async () => {
    const ml = createMlClient({ baseUrl: url, timeoutMs: 1000, breaker: { failureThreshold: 2, cooldownMs: 30_000 } });
    const broken = { status: 500, body: { detail: 'boom' } };
    planned = [{ status: 200, body: classification, delayMs: 100 }, broken, broken];

    const outcomes = await Promise.allSettled([classify(ml), classify(ml), classify(ml)]);
    const error = await classify(ml).catch((caught: unknown) => caught);

    // Whichever request arrived first got the slow success, after the two failures.
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(error).toMatchObject({
      message: 'The ML service is failing (circuit open after 2 consecutive failures); retrying in 30 s.',
    });
    expect(ml.breaker()).toMatchObject({ state: 'open', failures: 2 });
  });

  it('does not count a busy or loading service (503 with Retry-After): a burst it sheds leaves it closed', async () => {
    const ml = createMlClient({ baseUrl: url, timeoutMs: 1000, breaker: { failureThreshold: 2, cooldownMs: 30_000 } });
    const busy = { status: 503, body: { detail: 'the ML service is busy' }, headers: { 'retry-after': '1' } };
    planned = Array.from({ length: 20 }, () => busy);

    const burst = await Promise.allSettled(Array.from({ length: 20 }, () => classify(ml)));

    expect(burst.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(burst[0]).toMatchObject({
      reason: { code: 'SERVICE_UNAVAILABLE', cause: { details: { status: 503, retryAfterMs: 1000 } } },
    });
    expect(ml.breaker()).toEqual({ state: 'closed', failures: 0, retryInMs: null });
    await expect(classify(ml)).resolves.toMatchObject({ topCategory: 'code' });
  });

  it("does not count a call whose caller's own deadline passed (selectModel's routing timeout)", async () => {
    answer = { status: 200, body: classification, delayMs: 300 };
    const ml = createMlClient({ baseUrl: url, timeoutMs: 5000, breaker: { failureThreshold: 1, cooldownMs: 30_000 } });

    const call = ml.classify(
      { prompt: 'Write a parser.', multiLabel: false },
      { requestId: 'r1', signal: AbortSignal.timeout(30) },
    );

    await expect(call).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: "The caller's deadline passed before the ML service answered.",
    });
    expect(ml.breaker()).toEqual({ state: 'closed', failures: 0, retryInMs: null });
  });

  it('opens for a stopped service even when each caller stops waiting before got has retried', async () => {
    const port = await closedPort();
    const ml = createMlClient({
      baseUrl: `http://127.0.0.1:${port}`,
      timeoutMs: 5000,
      breaker: { failureThreshold: 2, cooldownMs: 30_000 },
    });
    const call = () =>
      ml.classify(
        { prompt: 'Write a parser.', multiLabel: false },
        { requestId: 'r1', signal: AbortSignal.timeout(50) },
      );

    for (let i = 0; i < 2; i += 1) await expect(call()).rejects.toMatchObject({ code: 'TIMEOUT' });

    expect(ml.breaker()).toMatchObject({ state: 'open', failures: 2 });
  });

  it('keeps the circuit open when its trial request gets no answer before its caller stops waiting', async () => {
    const ml = createMlClient({ baseUrl: url, timeoutMs: 5000, breaker: { failureThreshold: 1, cooldownMs: 50 } });
    planned = [{ status: 500, body: { detail: 'boom' } }];
    await expect(classify(ml)).rejects.toMatchObject({ code: 'BAD_GATEWAY' });
    await new Promise((resolve) => setTimeout(resolve, 80));
    answer = { status: 200, body: classification, delayMs: 300 };

    const trial = ml.classify(
      { prompt: 'Write a parser.', multiLabel: false },
      { requestId: 'r1', signal: AbortSignal.timeout(30) },
    );

    await expect(trial).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(ml.breaker().state).toBe('open');
  });

  it('counts a 503 without Retry-After (a model that failed to load)', async () => {
    answer = { status: 503, body: { detail: 'the classifier failed to load' } };
    const ml = createMlClient({ baseUrl: url, timeoutMs: 1000, breaker: { failureThreshold: 1, cooldownMs: 30_000 } });

    await expect(classify(ml)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    expect(ml.breaker()).toMatchObject({ state: 'open', failures: 1 });
  });

  it('does not count input the service refuses', async () => {
    answer = { status: 422, body: { detail: 'prompt too long' } };
    const ml = createMlClient({ baseUrl: url, timeoutMs: 1000, breaker: { failureThreshold: 1, cooldownMs: 30_000 } });

    await expect(classify(ml)).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    expect(ml.breaker()).toEqual({ state: 'closed', failures: 0, retryInMs: null });
  });
});
