// The classify and compress e2e suite, run against each way the ML service can be served
// (one process, and Ray Serve in ray.e2e.test.ts): the same assertions must hold for both.
import { type MlServing, startTestMlService } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTokenFlowError, type TokenFlowClient, type TokenFlowError } from '../index.ts';
import { type MlStack, startMlStack } from './stack.ts';

const DEFAULTS = ['code', 'creative', 'function-calling', 'general', 'reasoning', 'text-to-text'];
const NOTES =
  'The team met on Monday to review the Q3 budget of 48,500 dollars. Revenue grew 12 percent. ' +
  'Action items: Alice owns the launch plan, Bob reviews the contract by Friday. ';

export async function failure(call: Promise<unknown>): Promise<TokenFlowError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!isTokenFlowError(error)) throw new Error(`expected a TokenFlow error, got ${String(error)}`);
  return error;
}

export function describeClassifyAndCompress(serving: MlServing): void {
  describe(`classify and compress through the gateway and the real ML service (${serving})`, () => {
    let stack: MlStack;
    let client: TokenFlowClient;

    beforeAll(async () => {
      stack = await startMlStack(startTestMlService({}, serving), { HTTP_MAX_BODY_BYTES: String(256 * 1024) });
      client = stack.client;
    }, 300_000);

    afterAll(async () => {
      await stack?.close();
    });

    it('classifies a prompt into the default categories with the real MiniLM model', async () => {
      const result = await client.trpc.classify.mutate({
        prompt: 'Write a Python function that merges two sorted lists.',
      });

      expect(result.topCategory).toBe('code');
      expect(result.labels.map((l) => l.label).sort()).toEqual(DEFAULTS);
      expect(result.labels.reduce((sum, l) => sum + l.score, 0)).toBeCloseTo(1, 4);
      expect(result.confidence).toBe(result.labels[0]?.score);
      expect(result).toMatchObject({ backend: 'embedding', model: expect.stringContaining('model') });
      expect(result.elapsedMs).toBeGreaterThan(0);
    });

    it("classifies into the caller's own categories, several at once with multiLabel", async () => {
      const result = await client.trpc.classify.mutate({
        prompt: 'My parcel never arrived and I want a refund',
        possibleCategories: ['refund request', 'sports news', 'weather'],
        multiLabel: true,
      });

      expect(result.topCategory).toBe('refund request');
      expect(result.labels.every((l) => l.score >= 0 && l.score <= 1)).toBe(true);
    });

    it('compresses with LLMLingua-2 and reports GPT token counts and the saving', async () => {
      const text = NOTES.repeat(20);
      const result = await client.trpc.compress.mutate({
        text,
        ratio: 0.4,
        forceTokens: ['Alice'],
        forceReserveDigit: true,
      });

      expect(result.method).toBe('llmlingua2');
      expect(result.compressedTokens).toBeLessThan(result.originTokens);
      expect(result.ratio).toBeCloseTo(result.compressedTokens / result.originTokens, 3);
      expect(result.savingPercent).toBeCloseTo((1 - result.ratio) * 100, 1);
      expect(result.compressedText.match(/Alice/g)).toHaveLength(20);
      expect(result.compressedText.match(/48,500|48|500/g)?.length).toBeGreaterThanOrEqual(20);
    });

    it('rejects invalid input in the gateway with BAD_REQUEST before calling the service', async () => {
      const error = await failure(client.trpc.compress.mutate({ text: 'x', ratio: 1.5 }));
      expect(error.data?.code).toBe('BAD_REQUEST');
      expect(error.message).toMatch(/ratio/);

      const blank = await failure(client.trpc.classify.mutate({ prompt: '   ' }));
      expect(blank.message).toMatch(/prompt: must contain text/);

      const repeated = await failure(client.trpc.classify.mutate({ prompt: 'x', possibleCategories: ['a', 'A'] }));
      expect(repeated.message).toMatch(/must not repeat a category/);

      const spaces = await failure(client.trpc.compress.mutate({ text: 'x', forceTokens: ['  '] }));
      expect(spaces.message).toMatch(/forceTokens.0: must not be only spaces/);
    });

    it("passes the service's own refusal on as BAD_REQUEST with its message", async () => {
      // More forced tokens than the budget: only the service can count them.
      const error = await failure(client.trpc.compress.mutate({ text: NOTES, targetTokens: 2, forceTokens: ['the'] }));

      expect(error.data?.code).toBe('BAD_REQUEST');
      expect(error.message).toMatch(/force_tokens: .* more than the budget/);
      expect(error.data?.upstream).toEqual({ provider: 'ml-service', status: 422, retryAfterMs: null });
    });

    it('refuses a body over HTTP_MAX_BODY_BYTES with PAYLOAD_TOO_LARGE', async () => {
      const error = await failure(client.trpc.compress.mutate({ text: 'y'.repeat(300_000) }));
      expect(error.data?.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it("includes the ML service's readiness in the gateway's /readyz", async () => {
      const response = await fetch(`${stack.gateway.url}/readyz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ready: true, checks: { mlService: 'ok' } });
    });
  });
}
