import {
  closedPort,
  startGateway,
  startMlService,
  startReplayUpstream,
  startTestMlService,
  tinyModels,
} from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenFlowClient, isTokenFlowError, type TokenFlowClient, type TokenFlowError } from './index.ts';
import { type MlStack, startMlStack } from './test/stack.ts';

const DEFAULTS = ['code', 'creative', 'function-calling', 'general', 'reasoning', 'text-to-text'];
const NOTES =
  'The team met on Monday to review the Q3 budget of 48,500 dollars. Revenue grew 12 percent. ' +
  'Action items: Alice owns the launch plan, Bob reviews the contract by Friday. ';

async function failure(call: Promise<unknown>): Promise<TokenFlowError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!isTokenFlowError(error)) throw new Error(`expected a TokenFlow error, got ${String(error)}`);
  return error;
}

describe('classify and compress through the gateway and the real ML service', () => {
  let stack: MlStack;
  let client: TokenFlowClient;

  beforeAll(async () => {
    stack = await startMlStack(startTestMlService(), { HTTP_MAX_BODY_BYTES: String(256 * 1024) });
    client = stack.client;
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('classifies a prompt into the default categories with the real MiniLM model', async () => {
    const result = await client.classify.mutate({ prompt: 'Write a Python function that merges two sorted lists.' });

    expect(result.topCategory).toBe('code');
    expect(result.labels.map((l) => l.label).sort()).toEqual(DEFAULTS);
    expect(result.labels.reduce((sum, l) => sum + l.score, 0)).toBeCloseTo(1, 4);
    expect(result.confidence).toBe(result.labels[0]?.score);
    expect(result).toMatchObject({ backend: 'embedding', model: expect.stringContaining('model') });
    expect(result.elapsedMs).toBeGreaterThan(0);
  });

  it("classifies into the caller's own categories, several at once with multiLabel", async () => {
    const result = await client.classify.mutate({
      prompt: 'My parcel never arrived and I want a refund',
      possibleCategories: ['refund request', 'sports news', 'weather'],
      multiLabel: true,
    });

    expect(result.topCategory).toBe('refund request');
    expect(result.labels.every((l) => l.score >= 0 && l.score <= 1)).toBe(true);
  });

  it('compresses with LLMLingua-2 and reports GPT token counts and the saving', async () => {
    const text = NOTES.repeat(20);
    const result = await client.compress.mutate({ text, ratio: 0.4, forceTokens: ['Alice'], forceReserveDigit: true });

    expect(result.method).toBe('llmlingua2');
    expect(result.compressedTokens).toBeLessThan(result.originTokens);
    expect(result.ratio).toBeCloseTo(result.compressedTokens / result.originTokens, 3);
    expect(result.savingPercent).toBeCloseTo((1 - result.ratio) * 100, 1);
    expect(result.compressedText.match(/Alice/g)).toHaveLength(20);
    expect(result.compressedText.match(/48,500|48|500/g)?.length).toBeGreaterThanOrEqual(20);
  });

  it('rejects invalid input in the gateway with BAD_REQUEST before calling the service', async () => {
    const error = await failure(client.compress.mutate({ text: 'x', ratio: 1.5 }));
    expect(error.data?.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/ratio/);

    const blank = await failure(client.classify.mutate({ prompt: '   ' }));
    expect(blank.message).toMatch(/prompt: must contain text/);

    const repeated = await failure(client.classify.mutate({ prompt: 'x', possibleCategories: ['a', 'A'] }));
    expect(repeated.message).toMatch(/must not repeat a category/);

    const spaces = await failure(client.compress.mutate({ text: 'x', forceTokens: ['  '] }));
    expect(spaces.message).toMatch(/forceTokens.0: must not be only spaces/);
  });

  it("passes the service's own refusal on as BAD_REQUEST with its message", async () => {
    // More forced tokens than the budget: only the service can count them.
    const error = await failure(client.compress.mutate({ text: NOTES, targetTokens: 2, forceTokens: ['the'] }));

    expect(error.data?.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/force_tokens: .* more than the budget/);
    expect(error.data?.upstream).toEqual({ provider: 'ml-service', status: 422, retryAfterMs: null });
  });

  it('refuses a body over HTTP_MAX_BODY_BYTES with PAYLOAD_TOO_LARGE', async () => {
    const error = await failure(client.compress.mutate({ text: 'y'.repeat(300_000) }));
    expect(error.data?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it("includes the ML service's readiness in the gateway's /readyz", async () => {
    const response = await fetch(`${stack.gateway.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ready: true, checks: { mlService: 'ok' } });
  });
});

describe('when the ML service is down or not ready', () => {
  it('answers SERVICE_UNAVAILABLE within a second once the service is killed', async () => {
    const ml = await startTestMlService();
    const gateway = await startGateway({ ML_SERVICE_URL: ml.url });
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    try {
      expect((await client.classify.mutate({ prompt: 'hello there' })).labels).toHaveLength(6);

      await ml.kill();
      const started = performance.now();
      const error = await failure(client.classify.mutate({ prompt: 'hello there' }));
      const elapsed = performance.now() - started;

      expect(error.data?.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toMatch(/The ML service at http:\/\/127\.0\.0\.1:\d+ is not reachable \(ECONNREFUSED\)/);
      expect(elapsed).toBeLessThan(1000);
      const readyz = await fetch(`${gateway.url}/readyz`);
      expect(readyz.status).toBe(503);
      expect((await readyz.json()).checks.mlService).toMatch(/not reachable/);
    } finally {
      await client.close();
      await gateway.close();
      await ml.close();
    }
  }, 120_000);

  it('answers SERVICE_UNAVAILABLE at once, naming the model, while models load or after one failed', async () => {
    const ml = await startMlService({
      ML_CLASSIFIER_BACKEND: 'nli',
      ML_CLASSIFIER_MODEL: '/nonexistent/nli-model',
      ML_COMPRESSOR_BACKEND: 'llmlingua2',
      ML_COMPRESSOR_MODEL: tinyModels().llmlingua2,
    });
    const gateway = await startGateway({ ML_SERVICE_URL: ml.url });
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    try {
      const started = performance.now();
      const error = await failure(client.classify.mutate({ prompt: 'hello' }));
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error.data?.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toMatch(
        /The ML service is not available: the classifier model (is still loading|failed to load)/,
      );

      await expect
        .poll(async () => (await failure(client.classify.mutate({ prompt: 'hello' }))).message, { timeout: 60_000 })
        .toMatch(/the classifier model failed to load: .*nonexistent\/nli-model/);
    } finally {
      await client.close();
      await gateway.close();
      await ml.close();
    }
  }, 120_000);

  it('answers a busy service at once with SERVICE_UNAVAILABLE and its Retry-After, without retrying', async () => {
    const ml = await startMlService({
      ML_CLASSIFIER_BACKEND: 'nli',
      ML_CLASSIFIER_MODEL: tinyModels().nli,
      ML_COMPRESSOR_BACKEND: 'llmlingua2',
      ML_COMPRESSOR_MODEL: tinyModels().llmlingua2,
      ML_WORKERS: '1',
      ML_MAX_QUEUE: '0',
    });
    await ml.ready();
    const gateway = await startGateway({ ML_SERVICE_URL: ml.url });
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    try {
      const text = 'The team reviewed the budget and the launch plan on Monday. '.repeat(400);
      const calls = Array.from({ length: 8 }, async () => {
        const started = performance.now();
        const outcome = await client.compress.mutate({ text, ratio: 0.5 }).then(
          () => null,
          (error: unknown) => error as TokenFlowError,
        );
        return { outcome, ms: performance.now() - started };
      });
      const results = await Promise.all(calls);
      const busy = results.filter((r) => r.outcome?.data?.code === 'SERVICE_UNAVAILABLE');

      expect(results.some((r) => r.outcome === null)).toBe(true);
      expect(busy.length).toBeGreaterThan(0);
      expect(busy[0]?.outcome?.message).toMatch(/The ML service is not available: the ML service is busy/);
      expect(busy[0]?.outcome?.data?.upstream).toEqual({ provider: 'ml-service', status: 503, retryAfterMs: 1000 });
      expect(Math.min(...busy.map((r) => r.ms))).toBeLessThan(1000);
    } finally {
      await client.close();
      await gateway.close();
      await ml.close();
    }
  }, 120_000);

  it('reports BAD_GATEWAY, not bad input, when ML_SERVICE_URL answers 404', async () => {
    const notTheMlService = await startReplayUpstream();
    const gateway = await startGateway({ ML_SERVICE_URL: notTheMlService.baseURL.replace(/\/v1$/, '') });
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    try {
      const error = await failure(client.classify.mutate({ prompt: 'hello' }));
      expect(error.data?.code).toBe('BAD_GATEWAY');
      expect(error.message).toMatch(/HTTP 404/);
    } finally {
      await client.close();
      await gateway.close();
      await notTheMlService.close();
    }
  });

  it('answers SERVICE_UNAVAILABLE when nothing listens at ML_SERVICE_URL', async () => {
    const gateway = await startGateway({ ML_SERVICE_URL: `http://127.0.0.1:${await closedPort()}` });
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    try {
      const error = await failure(client.compress.mutate({ text: 'hello world' }));
      expect(error.data?.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.data?.upstream?.provider).toBe('ml-service');
    } finally {
      await client.close();
      await gateway.close();
    }
  });
});
