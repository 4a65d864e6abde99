import { closedPort, expectedFrom, RECORDINGS } from '@tokenflow/server/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type GenerateEvent,
  type RouterInputs,
  streamGenerate,
  type TokenFlowClient,
  type TokenFlowError,
  TRPCClientError,
} from './index.ts';
import { GROQ_KEY, OPENROUTER_KEY, type Stack, startStack } from './test/stack.ts';

type Outcome = {
  events: GenerateEvent[];
  text: string;
  reasoning: string;
  error: TokenFlowError | null;
};

async function run(client: TokenFlowClient, input: RouterInputs['generate']): Promise<Outcome> {
  const outcome: Outcome = { events: [], text: '', reasoning: '', error: null };
  try {
    for await (const event of streamGenerate(client, input)) {
      outcome.events.push(event);
      if (event.type === 'text') outcome.text += event.text;
      if (event.type === 'reasoning') outcome.reasoning += event.text;
    }
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    outcome.error = error;
  }
  return outcome;
}

const prompt = 'I want a recipe to cook Uruguayan alfajores.';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    TOKENFLOW_PROVIDER_CLOSED_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
    // Each case injects a failure into the same providers: keep their circuit breakers
    // from opening, so each case sees its own failure (breakers: providers/resilience.test.ts).
    BREAKER_FAILURE_THRESHOLD: '1000',
  });
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => {
  stack.upstream.use({});
});

describe('generate streams a recorded provider response through the typed client', () => {
  it.each(RECORDINGS)('%s: text, reasoning, finish reason and usage equal the recording', async (name) => {
    const provider = name.startsWith('groq') ? 'groq' : 'openrouter';
    const expected = expectedFrom(name);

    const { events, text, reasoning, error } = await run(stack.client, { prompt, model: name, provider });

    expect(error).toBeNull();
    expect(events[0]).toMatchObject({ type: 'metadata', provider, model: name });
    expect(text).toBe(expected.content);
    expect(reasoning).toBe(expected.reasoning);
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
    // The recordings' models are not in the built-in catalog: only a provider-reported cost is known.
    const costSource = expected.usage?.costUsd != null ? 'provider' : null;
    expect(events.at(-1)).toEqual({
      type: 'end',
      finishReason: expected.finishReason,
      provider,
      model: name,
      usage: expected.usage && { ...expected.usage, costSource },
    });
  });

  it('gives every stream its own request id in the metadata event', async () => {
    const first = await run(stack.client, { prompt, model: 'openrouter-streaming-reasoning', provider: 'openrouter' });
    const second = await run(stack.client, { prompt, model: 'openrouter-streaming-reasoning', provider: 'openrouter' });
    const ids = [first, second].map((o) => (o.events[0]?.type === 'metadata' ? o.events[0].requestId : null));
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it("reports OpenRouter's cost from the usage chunk that follows the finish_reason chunk", async () => {
    const { events } = await run(stack.client, {
      prompt,
      model: 'openrouter-stream-with-native-options',
      provider: 'openrouter',
    });
    expect(events.at(-1)).toMatchObject({ type: 'end', usage: { totalTokens: 874, costUsd: 0.00333825 } });
  });

  it("sends the provider's key, the sampling options and a request for usage upstream", async () => {
    stack.upstream.requests.length = 0;
    await run(stack.client, {
      messages: [
        { role: 'system', content: 'You are a chef.' },
        { role: 'user', content: prompt },
      ],
      model: 'groq/groq-thinking-part-iter-0',
      temperature: 0.2,
      topP: 0.9,
      maxTokens: 64,
      stop: ['END'],
    });
    const [request] = stack.upstream.requests;
    expect(request?.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(request?.body).toMatchObject({
      model: 'groq-thinking-part-iter-0',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 64,
      stop: ['END'],
      messages: [
        { role: 'system', content: 'You are a chef.' },
        { role: 'user', content: prompt },
      ],
    });
  });
});

describe('generate ends every failure with a TRPCError that says what happened', () => {
  const model = 'openrouter-stream-with-native-options';
  const input = { prompt, model, provider: 'openrouter' } as const;

  it.each([
    [401, 'BAD_GATEWAY', undefined, /rejected the gateway's API key/],
    [403, 'BAD_GATEWAY', undefined, /refused the request/],
    [404, 'NOT_FOUND', undefined, /was not found at provider "openrouter"/],
    [429, 'TOO_MANY_REQUESTS', '7', /rate limiting \(HTTP 429\); retry after 7 s/],
    [500, 'BAD_GATEWAY', undefined, /answered HTTP 500/],
    [503, 'SERVICE_UNAVAILABLE', undefined, /answered HTTP 503/],
  ] as const)('upstream HTTP %i before the stream gives %s', async (status, code, retryAfter, message) => {
    stack.upstream.use({ fault: { kind: 'status', status, ...(retryAfter ? { retryAfter } : {}) } });

    const { error } = await run(stack.client, input);

    expect(error?.data?.code).toBe(code);
    expect(error?.message).toMatch(message);
    expect(error?.data?.upstream).toEqual({
      provider: 'openrouter',
      status,
      retryAfterMs: retryAfter ? Number(retryAfter) * 1000 : null,
    });
  });

  it.each(['openrouter', 'groq'] as const)(
    'an error event in the middle of a 200 stream (%s form) fails after the text so far',
    async (style) => {
      stack.upstream.use({ fault: { kind: 'midstream-error', style, afterEvents: 30 } });

      const { error, text } = await run(stack.client, input);

      expect(text.length).toBeGreaterThan(0);
      expect(error?.data?.code).toBe('BAD_GATEWAY');
      expect(error?.message).toMatch(/failed mid-stream: Upstream overloaded/);
      expect(error?.data?.upstream).toMatchObject({ provider: 'openrouter', status: 502 });
    },
  );

  it('a mid-stream error carrying 429 is reported as TOO_MANY_REQUESTS', async () => {
    stack.upstream.use({ fault: { kind: 'midstream-error', style: 'openrouter', afterEvents: 30, code: 429 } });
    const { error } = await run(stack.client, input);
    expect(error?.data?.code).toBe('TOO_MANY_REQUESTS');
  });

  it('a connection reset mid-stream gives BAD_GATEWAY', async () => {
    stack.upstream.use({ fault: { kind: 'reset', afterEvents: 30 } });
    const { error } = await run(stack.client, input);
    expect(error?.data?.code).toBe('BAD_GATEWAY');
    expect(error?.message).toMatch(/lost mid-stream/);
  });

  it('a stream that ends without finish_reason or [DONE] gives BAD_GATEWAY, not a silent stop', async () => {
    stack.upstream.use({ fault: { kind: 'truncate', afterEvents: 30 } });
    const { error, events } = await run(stack.client, input);
    expect(error?.data?.code).toBe('BAD_GATEWAY');
    expect(error?.message).toMatch(/without a finish reason/);
    expect(events.some((e) => e.type === 'end')).toBe(false);
  });

  it('an upstream that never answers gives TIMEOUT after the first-token timeout', async () => {
    stack.upstream.use({ fault: { kind: 'stall', afterEvents: 0 } });
    const started = Date.now();
    const { error } = await run(stack.client, input);
    expect(error?.data?.code).toBe('TIMEOUT');
    expect(error?.message).toMatch(/No token from provider "openrouter" within 1500 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await expect.poll(() => stack.upstream.abortedStreams).toBeGreaterThan(0);
  });

  it('an upstream that stalls after some tokens gives TIMEOUT after the idle timeout', async () => {
    stack.upstream.use({ fault: { kind: 'stall', afterEvents: 40 } });
    const { error, text } = await run(stack.client, input);
    expect(text.length).toBeGreaterThan(0);
    expect(error?.data?.code).toBe('TIMEOUT');
    expect(error?.message).toMatch(/sent nothing for 1000 ms/);
  });

  it('an unreachable provider gives SERVICE_UNAVAILABLE', async () => {
    const { error } = await run(stack.client, { prompt, model: 'm', provider: 'nowhere' });
    expect(error?.data?.code).toBe('NOT_FOUND');

    const { error: refused } = await run(stack.client, { prompt, model: 'm', provider: 'closed' });
    expect(refused?.data?.code).toBe('SERVICE_UNAVAILABLE');
    expect(refused?.message).toMatch(/Could not connect to provider "closed" \(ECONNREFUSED\)/);
  });

  it('rejects invalid input with BAD_REQUEST and a readable message', async () => {
    const both = await run(stack.client, { prompt, messages: [{ role: 'user', content: 'x' }], model });
    expect(both.error?.data?.code).toBe('BAD_REQUEST');
    expect(both.error?.message).toMatch(/Send exactly one of prompt or messages/);

    const tooLong = await run(stack.client, { prompt: 'x'.repeat(400_001), model });
    expect(tooLong.error?.data?.code).toBe('BAD_REQUEST');
    expect(tooLong.error?.message).toMatch(/^Invalid input: prompt: Too big/);

    const badTokens = await run(stack.client, { prompt, model, maxTokens: 0 });
    expect(badTokens.error?.message).toMatch(/maxTokens/);
  });

  it('never repeats the provider key in an error message', async () => {
    stack.upstream.use({ fault: { kind: 'status', status: 401, message: `Invalid API key: ${OPENROUTER_KEY}` } });
    const { error } = await run(stack.client, input);
    expect(error?.message).not.toContain(OPENROUTER_KEY);
    expect(error?.message).toContain('[redacted]');
  });
});

describe('generate stops the upstream request when the consumer goes away', () => {
  const slow = { prompt, model: 'groq-thinking-part-iter-0', provider: 'groq' } as const;

  it('aborts the upstream request when the client unsubscribes', async () => {
    stack.upstream.use({ eventDelayMs: 5 });
    const before = stack.upstream.abortedStreams;
    const aborted = stack.upstream.nextAbort();

    let texts = 0;
    for await (const event of streamGenerate(stack.client, slow)) {
      if (event.type === 'text' && ++texts === 5) break;
    }

    await aborted;
    expect(stack.upstream.abortedStreams).toBe(before + 1);
    await expect.poll(() => stack.gateway.gateway.lifecycle.activeStreams).toBe(0);
  });

  it('aborts the upstream request and fails the stream when the client is closed mid-stream', async () => {
    stack.upstream.use({ eventDelayMs: 5 });
    const client = stack.newClient();
    const aborted = stack.upstream.nextAbort();
    let texts = 0;
    const consuming = (async () => {
      for await (const event of streamGenerate(client, slow)) {
        if (event.type === 'text' && ++texts === 3) void client.close();
      }
    })();

    await expect(consuming).rejects.toThrow(/closed before its end event/);
    await aborted;
  });

  it('aborts the upstream request and throws the reason when the signal aborts', async () => {
    stack.upstream.use({ eventDelayMs: 5 });
    const aborted = stack.upstream.nextAbort();
    const controller = new AbortController();
    let texts = 0;
    const consuming = (async () => {
      for await (const event of streamGenerate(stack.client, slow, { signal: controller.signal })) {
        if (event.type === 'text' && ++texts === 3) controller.abort(new Error('user pressed stop'));
      }
    })();

    await expect(consuming).rejects.toThrow('user pressed stop');
    await aborted;
  });
});
