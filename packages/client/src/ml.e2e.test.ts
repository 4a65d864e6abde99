import {
  closedPort,
  startGateway,
  startMlService,
  startReplayUpstream,
  startTestMlService,
  tinyModels,
} from '@tokenflow/server/test-utils';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenFlowClient, type TokenFlowError } from './index.ts';
import { describeClassifyAndCompress, failure } from './test/ml-suite.ts';

describeClassifyAndCompress('process');

describe('when the ML service is down or not ready', () => {
  it('answers SERVICE_UNAVAILABLE within a second once the service is killed', async () => {
    const ml = await startTestMlService();
    const gateway = await startGateway({ ML_SERVICE_URL: ml.url });
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    try {
      expect((await client.trpc.classify.mutate({ prompt: 'hello there' })).labels).toHaveLength(6);

      await ml.kill();
      const started = performance.now();
      const error = await failure(client.trpc.classify.mutate({ prompt: 'hello there' }));
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
      const error = await failure(client.trpc.classify.mutate({ prompt: 'hello' }));
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error.data?.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toMatch(
        /The ML service is not available: the classifier model (is still loading|failed to load)/,
      );

      await expect
        .poll(async () => (await failure(client.trpc.classify.mutate({ prompt: 'hello' }))).message, {
          timeout: 60_000,
        })
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
        const outcome = await client.trpc.compress.mutate({ text, ratio: 0.5 }).then(
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
      const error = await failure(client.trpc.classify.mutate({ prompt: 'hello' }));
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
      const error = await failure(client.trpc.compress.mutate({ text: 'hello world' }));
      expect(error.data?.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.data?.upstream?.provider).toBe('ml-service');
    } finally {
      await client.close();
      await gateway.close();
    }
  });
});
