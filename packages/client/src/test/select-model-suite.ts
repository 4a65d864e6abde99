// The selectModel e2e suite, run against each way the ML service can be served
// (one process, and Ray Serve in ray.e2e.test.ts).
import {
  expectedFrom,
  type MlServing,
  type ReplayUpstream,
  type RunningMlService,
  startTestMlService,
} from '@tokenflow/server/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  isTokenFlowError,
  type SelectModelEvent,
  type SelectModelInput,
  streamSelectModel,
  type TokenFlowClient,
  type TokenFlowError,
} from '../index.ts';
import { CHATTER, CODER, catalogModel, REASONER, SMALL } from './recorded-models.ts';
import { type Stack, startStack } from './stack.ts';

const CATALOG = {
  defaultCategory: 'general',
  models: [
    catalogModel(REASONER, { reasoning: 1 }),
    catalogModel(CODER, { code: 1, 'function-calling': 1 }),
    catalogModel(CHATTER, { general: 1, code: 2, creative: 1, 'text-to-text': 1 }),
    catalogModel(SMALL, { general: 2, reasoning: 2 }),
  ],
};

const CODE_PROMPT = 'Write a Python function that merges two sorted lists into one sorted list.';
const REASONING_PROMPT =
  'A bat and a ball cost $1.10 in total and the bat costs $1.00 more than the ball. How much is the ball? Show your steps.';

type Run = { events: SelectModelEvent[]; text: string; error: TokenFlowError | null };

async function run(client: TokenFlowClient, input: SelectModelInput): Promise<Run> {
  const result: Run = { events: [], text: '', error: null };
  try {
    for await (const event of streamSelectModel(client, input)) {
      result.events.push(event);
      if (event.type === 'text') result.text += event.text;
    }
  } catch (error) {
    if (!isTokenFlowError(error)) throw error;
    result.error = error;
  }
  return result;
}

const metadataOf = (r: Run) => {
  const [first] = r.events;
  if (first?.type !== 'metadata') throw new Error(`first event is ${first?.type}`);
  return first;
};

export function describeSelectModel(serving: MlServing): void {
  describe(`selectModel through the gateway, the real ML service (${serving}) and the replay upstream`, () => {
    let stack: Stack;
    let ml: RunningMlService;
    let upstream: ReplayUpstream;
    let client: TokenFlowClient;

    beforeAll(async () => {
      ml = await startTestMlService({}, serving);
      // The first classification also warms the model up; CI machines are slow.
      stack = await startStack({ ROUTING_CLASSIFY_TIMEOUT_MS: '5000' }, { ml, catalog: CATALOG });
      ({ upstream, client } = stack);
    }, 300_000);

    afterEach(() => {
      upstream.use({});
      upstream.requests.length = 0;
    });

    afterAll(async () => {
      await stack?.close();
    });

    it('routes a code prompt to the best code model and says why in the metadata event', async () => {
      const result = await run(client, { prompt: CODE_PROMPT });

      expect(result.error).toBeNull();
      const metadata = metadataOf(result);
      expect(metadata).toMatchObject({
        ...CODER,
        category: 'code',
        classification: 'ok',
        routing: 'classified',
        candidates: [CODER, CHATTER],
        compression: null,
        compressionMs: null,
        notes: [],
      });
      expect(metadata.scores.map((s) => s.label)).toContain('code');
      expect(metadata.confidence).toBeGreaterThan(0.3);
      expect(metadata.classificationMs).toBeGreaterThan(0);
      expect(result.text).toBe(expectedFrom(CODER.model).content);
      expect(result.events.at(-1)).toMatchObject({ type: 'end', usage: expectedFrom(CODER.model).usage });
      expect(upstream.requests.map((r) => r.body.model)).toEqual([CODER.model]);
    });

    it('routes a reasoning prompt to the reasoning model and streams its reasoning', async () => {
      const result = await run(client, { prompt: REASONING_PROMPT });

      expect(metadataOf(result)).toMatchObject({ ...REASONER, category: 'reasoning' });
      expect(result.events.filter((e) => e.type === 'reasoning').length).toBeGreaterThan(0);
    });

    it('compresses the prompt before the upstream call and sends the compressed text', async () => {
      const notes = 'The team met on Monday to review the budget of 48500 dollars and the launch plan. ';
      const prompt = `${notes.repeat(30)}Summarize these meeting notes in two sentences.`;

      const result = await run(client, { prompt, compress: { ratio: 0.5 } });

      const { compression } = metadataOf(result);
      expect(compression?.compressedTokens).toBeLessThan(compression?.originTokens ?? 0);
      const sent = upstream.requests[0]?.body.messages as Array<{ content: string }>;
      expect(sent[0]?.content.length).toBeLessThan(prompt.length * 0.8);
      expect(result.error).toBeNull();
    });

    it('falls back to the next candidate with a fallback event when the first answers 429', async () => {
      upstream.use((request) =>
        request.body.model === CODER.model ? { fault: { kind: 'status', status: 429, retryAfter: '30' } } : {},
      );

      const result = await run(client, { prompt: CODE_PROMPT });

      expect(result.error).toBeNull();
      const fallback = result.events.find((e) => e.type === 'fallback');
      expect(fallback).toMatchObject({ from: CODER, to: CHATTER, code: 'TOO_MANY_REQUESTS' });
      expect(result.events.map((e) => e.type).slice(0, 2)).toEqual(['metadata', 'fallback']);
      expect(result.text).toBe(expectedFrom(CHATTER.model).content);
    });

    it('never switches models after the first token: a mid-stream failure ends the stream', async () => {
      upstream.use({ fault: { kind: 'midstream-error', style: 'openrouter', afterEvents: 30 } });

      const result = await run(client, { prompt: CODE_PROMPT });

      expect(result.error?.data?.code).toBe('BAD_GATEWAY');
      expect(result.events.some((e) => e.type === 'fallback')).toBe(false);
      expect(result.text.length).toBeGreaterThan(0);
    });

    it('fails with PRECONDITION_FAILED, saying why, when no model may serve the request', async () => {
      const result = await run(client, { prompt: CODE_PROMPT, allowedProviders: ['anthropic'] });

      expect(result.error?.data?.code).toBe('PRECONDITION_FAILED');
      expect(result.error?.message).toMatch(/provider openrouter is not in allowedProviders/);
    });

    it('aborts the upstream request when the client unsubscribes', async () => {
      upstream.use({ eventDelayMs: 5 });
      const aborted = upstream.nextAbort();
      let texts = 0;
      for await (const event of streamSelectModel(client, { prompt: CODE_PROMPT })) {
        if (event.type === 'text' && ++texts === 3) break;
      }
      await aborted;
    });

    it('still streams, from the default category, when the ML service has been killed', async () => {
      await ml.kill();

      const result = await run(client, { prompt: CODE_PROMPT });

      expect(result.error).toBeNull();
      expect(metadataOf(result)).toMatchObject({
        ...CHATTER,
        category: 'general',
        classification: 'unavailable',
        routing: 'unclassified',
        scores: [],
        confidence: null,
      });
      expect(metadataOf(result).notes[0]).toMatch(/^classification unavailable: /);
      expect(result.text).toBe(expectedFrom(CHATTER.model).content);
    });
  });
}
