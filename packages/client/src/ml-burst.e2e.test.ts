import { startMlService } from '@tokenflow/server/test-utils';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MlStack, startMlStack } from './test/stack.ts';

// A small service on purpose (one request at a time, two waiting), so a burst is mostly refused.
describe('a burst the ML service sheds', () => {
  let stack: MlStack;

  beforeAll(async () => {
    stack = await startMlStack(startMlService({ ML_CLASSIFY_MAX_BATCH: '1', ML_CLASSIFY_MAX_QUEUE: '2' }), {
      BREAKER_FAILURE_THRESHOLD: '3',
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('is refused at once with a retry hint, and a single request right after is served', async () => {
    const prompts = Array.from({ length: 64 }, (_, i) => `Write a Python function number ${i} that sorts a list.`);

    const burst = await Promise.allSettled(prompts.map((prompt) => stack.client.trpc.classify.mutate({ prompt })));

    const refused = burst.filter((outcome) => outcome.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const outcome of refused) {
      const error = outcome.reason as TRPCClientError<never>;
      expect(error).toBeInstanceOf(TRPCClientError);
      expect(error.data).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        upstream: { provider: 'ml-service', status: 503, retryAfterMs: 1000 },
      });
    }
    const readyz = (await (await fetch(`${stack.gateway.url}/readyz`)).json()) as { breakers: Record<string, unknown> };
    expect(readyz.breakers['ml-service']).toEqual({ state: 'closed', failures: 0, retryInMs: null });
    await expect(stack.client.trpc.classify.mutate({ prompt: 'Write a haiku about rain.' })).resolves.toMatchObject({
      topCategory: 'creative',
    });
  });
});
