import {
  expectedFrom,
  hashApiKey,
  type ReplayUpstream,
  type RunningGateway,
  startTestMlService,
} from '@tokenflow/server/test-utils';
import OpenAI, { APIError, AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Chunk, collect, runPython, textOf } from './test/openai-clients.ts';
import { CHATTER, CODER, catalogModel } from './test/recorded-models.ts';
import { type Stack, startStack } from './test/stack.ts';

const KEY = 'tf_openai-sdk-key-000000000000000000000000000000000000';
const CATALOG = {
  defaultCategory: 'general',
  models: [
    catalogModel(CODER, { code: 1 }),
    { ...catalogModel(CHATTER, { general: 1, code: 2, creative: 1 }), supportsTools: true },
  ],
};
const CODE_PROMPT = 'Write a Python function that merges two sorted lists into one sorted list.';
const CHATTER_ID = `${CHATTER.provider}/${CHATTER.model}`;
const CODER_ID = `${CODER.provider}/${CODER.model}`;
const expected = expectedFrom(CHATTER.model);
const expectedUsage = {
  prompt_tokens: expected.usage?.promptTokens,
  completion_tokens: expected.usage?.completionTokens,
  total_tokens: expected.usage?.totalTokens,
};

const withinOneSecond = (promise: Promise<void>) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no upstream abort within 1 s')), 1000)),
  ]);

describe('the OpenAI-compatible endpoint, through the official openai clients, the replay upstream and the real ML service', () => {
  let stack: Stack;
  let upstream: ReplayUpstream;
  let gateway: RunningGateway;
  let openai: OpenAI;

  beforeAll(async () => {
    stack = await startStack(
      {
        TOKENFLOW_API_KEYS: JSON.stringify([{ name: 'sdk', hash: hashApiKey(KEY) }]),
        ROUTING_CLASSIFY_TIMEOUT_MS: '5000',
      },
      { ml: startTestMlService(), catalog: CATALOG },
    );
    ({ upstream, gateway } = stack);
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
  }, 180_000);

  afterEach(() => {
    upstream.use({});
    upstream.requests.length = 0;
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('with the openai npm client', () => {
    it("streams a model's text in OpenAI's chunks, with the recording's usage when include_usage is set", async () => {
      const { data: stream, response } = await openai.chat.completions
        .create({
          model: CHATTER_ID,
          messages: [{ role: 'user', content: 'Hello' }],
          stream: true,
          stream_options: { include_usage: true },
        })
        .withResponse();

      const { chunks, text } = await collect(stream);

      expect(text).toBe(expected.content);
      expect(response.headers.get('x-tokenflow-provider')).toBe('groq');
      expect(response.headers.get('x-tokenflow-model')).toBe(CHATTER.model);
      const requestId = response.headers.get('x-tokenflow-request-id');
      expect(chunks[0]).toMatchObject({
        id: `chatcmpl-${requestId}`,
        object: 'chat.completion.chunk',
        model: CHATTER_ID,
        choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }],
        tokenflow: { requestId, provider: 'groq', model: CHATTER.model },
      });
      expect(chunks.every((c) => c.model === CHATTER_ID && c.id === chunks[0]?.id)).toBe(true);
      const reasoning = chunks.map((c) => (c.choices[0]?.delta as { reasoning?: string } | undefined)?.reasoning ?? '');
      expect(reasoning.join('')).toBe(expected.reasoning);
      expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe(expected.finishReason);
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: expectedUsage });
    });

    it('answers without stream with one chat.completion holding the whole text and usage', async () => {
      const completion = await openai.chat.completions.create({
        model: CHATTER_ID,
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
        ],
      });

      expect(completion).toMatchObject({
        object: 'chat.completion',
        model: CHATTER_ID,
        choices: [{ index: 0, message: { role: 'assistant', content: expected.content } }],
        usage: expectedUsage,
      });
      expect(upstream.requests[0]?.body.messages).toEqual([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ]);
    });

    it('routes tokenflow/auto with selectModel and says how in headers and the first chunk', async () => {
      const { data: stream, response } = await openai.chat.completions
        .create({ model: 'tokenflow/auto', messages: [{ role: 'user', content: CODE_PROMPT }], stream: true })
        .withResponse();

      const { chunks, text } = await collect(stream);

      expect(text).toBe(expectedFrom(CODER.model).content);
      expect(response.headers.get('x-tokenflow-category')).toBe('code');
      expect(response.headers.get('x-tokenflow-routing')).toBe('classified');
      expect(Number(response.headers.get('x-tokenflow-confidence'))).toBeGreaterThan(0);
      expect(chunks[0]?.tokenflow).toMatchObject({
        category: 'code',
        classification: 'ok',
        candidates: [CODER, CHATTER],
        fallbacks: [],
      });
      expect(chunks.every((c) => c.model === CODER_ID)).toBe(true);
    });

    it('compresses the prompt when the tokenflow extension asks, and says by how much in headers', async () => {
      const prompt = `${CODE_PROMPT} The lists hold integers, may be empty and may repeat values. `.repeat(6);
      const body = {
        model: 'tokenflow/auto',
        messages: [{ role: 'user', content: prompt }],
        stream: true,
        tokenflow: { compress: { ratio: 0.5 }, prefer: 'quality' },
      } as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming;

      const { data: stream, response } = await openai.chat.completions.create(body).withResponse();
      const { chunks } = await collect(stream);

      const origin = Number(response.headers.get('x-tokenflow-origin-tokens'));
      const compressed = Number(response.headers.get('x-tokenflow-compressed-tokens'));
      expect(compressed).toBeGreaterThan(0);
      expect(compressed).toBeLessThan(origin);
      expect(chunks[0]?.tokenflow).toMatchObject({
        compression: { originTokens: origin, compressedTokens: compressed },
      });
      const sent = upstream.requests.at(-1)?.body.messages as Array<{ content: string }>;
      expect(sent.at(-1)?.content.length).toBeLessThan(prompt.length);
    });

    it('compresses only prose: code blocks, JSON tool results and tool definitions reach the provider as sent', async () => {
      const code = '```python\ndef merge(a, b):\n    return sorted(a + b)  # keep every value\n```';
      const prose = 'The merge must keep duplicates, handle empty lists and run in linear time on long inputs. ';
      const tool = {
        type: 'function' as const,
        function: { name: 'run_tests', parameters: { type: 'object', properties: { file: { type: 'string' } } } },
      };
      const call = {
        id: 'call_1',
        type: 'function' as const,
        function: { name: 'run_tests', arguments: '{"file":"a.py"}' },
      };
      const toolResult = '{"passed": 41, "failed": 1, "failing": "test_merge_keeps_duplicates"}';
      const ask = (messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[]) =>
        openai.chat.completions.create({
          model: 'tokenflow/auto',
          messages,
          tools: [tool],
          tokenflow: { compress: { ratio: 0.5 } },
        } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming);
      const userTurn = { role: 'user' as const, content: `${prose.repeat(6)}\n${code}\n${prose.repeat(6)}` };

      const first = await ask([userTurn]);
      const second = await ask([
        userTurn,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'call_1', content: toolResult },
      ]);

      type Sent = { messages: Array<{ content: string; tool_calls?: unknown }>; tools: unknown };
      const [afterUser, afterTool] = upstream.requests.map((r) => r.body as unknown as Sent);
      // The user's prose shrank around the code block, which is intact.
      // The fence keeps its own lines: the compressor's output is put back inside the prose's line breaks.
      expect(afterUser?.messages[0]?.content).toContain(`\n${code}\n`);
      expect(afterUser?.messages[0]?.content.length).toBeLessThan(userTurn.content.length * 0.8);
      expect((first as unknown as { tokenflow: { compression: unknown } }).tokenflow.compression).not.toBeNull();
      // The newest message is a JSON tool result: nothing to compress, and the metadata says so.
      expect(afterTool?.messages.map((m) => m.content ?? null)).toEqual([userTurn.content, null, toolResult]);
      expect(afterTool?.messages[1]?.tool_calls).toEqual([call]);
      expect((second as unknown as { tokenflow: { notes: string[] } }).tokenflow.notes).toContain(
        'compression skipped: the message has no prose to compress (only code, JSON or images)',
      );
      for (const sent of [afterUser, afterTool]) expect(JSON.stringify(sent?.tools)).toBe(JSON.stringify([tool]));
    });

    it('reports the fallback model in every chunk when the first candidate answers 429', async () => {
      upstream.use((request) =>
        request.body.model === CODER.model ? { fault: { kind: 'status', status: 429, retryAfter: '30' } } : {},
      );

      const { data: stream, response } = await openai.chat.completions
        .create({ model: 'tokenflow/auto', messages: [{ role: 'user', content: CODE_PROMPT }], stream: true })
        .withResponse();
      const { chunks, text } = await collect(stream);

      expect(text).toBe(expected.content);
      expect(response.headers.get('x-tokenflow-model')).toBe(CHATTER.model);
      expect(response.headers.get('x-tokenflow-fallbacks')).toBe('1');
      expect(chunks[0]?.tokenflow).toMatchObject({
        provider: CODER.provider,
        fallbacks: [{ from: CODER, to: CHATTER, code: 'TOO_MANY_REQUESTS' }],
      });
      expect(chunks.every((c) => c.model === CHATTER_ID)).toBe(true);
    });

    it("frames every chunk as OpenAI's `data:` events and ends with [DONE]", async () => {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: CHATTER_ID, messages: [{ role: 'user', content: 'Hello' }], stream: true }),
      });
      const body = await response.text();

      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const frames = body.split('\n\n').filter(Boolean);
      expect(frames.every((frame) => frame.startsWith('data: ') && !frame.includes('\n'))).toBe(true);
      expect(frames.at(-1)).toBe('data: [DONE]');
    });

    it('aborts the upstream request when the caller aborts the stream', async () => {
      upstream.use({ eventDelayMs: 5 });
      const aborted = upstream.nextAbort();
      const controller = new AbortController();
      const stream = await openai.chat.completions.create(
        { model: CHATTER_ID, messages: [{ role: 'user', content: 'Hello' }], stream: true },
        { signal: controller.signal },
      );

      let chunks = 0;
      // The SDK ends the iteration quietly once its signal is aborted.
      for await (const _ of stream) if (++chunks === 3) controller.abort();

      expect(chunks).toBe(3);
      await withinOneSecond(aborted);
    });

    it('sends an error chunk, which the SDK raises, when the provider fails mid-stream', async () => {
      upstream.use({ fault: { kind: 'midstream-error', style: 'openrouter', afterEvents: 10 } });
      const stream = await openai.chat.completions.create({
        model: CHATTER_ID,
        messages: [{ role: 'user', content: 'Hello' }],
        stream: true,
      });

      const chunks: Chunk[] = [];
      const error = await (async () => {
        for await (const chunk of stream) chunks.push(chunk);
      })().catch((e: unknown) => e);

      expect(chunks.length).toBeGreaterThan(0);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).error).toMatchObject({ type: 'server_error', code: 'upstream_error' });
      expect((error as APIError).message).toMatch(/failed mid-stream/);
    });

    it('fails with NotFoundError (404) and our message for a model the provider does not have', async () => {
      const error = await openai.chat.completions
        .create({ model: 'groq/no-such-model', messages: [{ role: 'user', content: 'Hello' }], stream: true })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).status).toBe(404);
      expect((error as NotFoundError).message).toMatch(/Model "no-such-model" was not found at provider "groq"/);
      expect((error as NotFoundError).error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found' });
    });

    it('fails with BadRequestError for n=2 and for fields it does not support', async () => {
      const n = await openai.chat.completions
        .create({ model: CHATTER_ID, messages: [{ role: 'user', content: 'Hi' }], n: 2 })
        .catch((e: unknown) => e);
      const functions = await openai.chat.completions
        .create({
          model: CHATTER_ID,
          messages: [{ role: 'user', content: 'Hi' }],
          functions: [{ name: 'f' }],
        })
        .catch((e: unknown) => e);

      expect(n).toBeInstanceOf(BadRequestError);
      expect((n as BadRequestError).message).toMatch(/n: n must be 1/);
      expect(functions).toBeInstanceOf(BadRequestError);
      expect((functions as BadRequestError).message).toMatch(/Unsupported field\(s\) "functions"/);
      expect(upstream.requests).toHaveLength(0);
    });

    it('refuses a wrong API key with AuthenticationError (401)', async () => {
      const stranger = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'tf_wrong', maxRetries: 0 });

      const error = await stranger.models.list().catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).status).toBe(401);
      expect((error as AuthenticationError).error).toMatchObject({ code: 'invalid_api_key' });
    });

    it('lists tokenflow/auto and the routable catalog models', async () => {
      const ids = [];
      for await (const listed of openai.models.list()) ids.push(listed.id);

      expect(ids).toEqual(['tokenflow/auto', CODER_ID, CHATTER_ID]);
      await expect(openai.models.retrieve(CHATTER_ID)).resolves.toMatchObject({ owned_by: 'groq' });
    });
  });

  describe('with the openai Python package', () => {
    const base = () => ({ base_url: `${gateway.url}/v1`, api_key: KEY });

    it("streams the recording's text and usage", async () => {
      const lines = await runPython({ ...base(), model: CHATTER_ID, include_usage: true });

      expect(lines[0]).toMatchObject({ model: CHATTER_ID, tokenflow: { provider: 'groq', model: CHATTER.model } });
      expect(textOf(lines)).toBe(expected.content);
      expect(lines).toContainEqual({ usage: expectedUsage });
      expect(lines).toContainEqual({ finish_reason: expected.finishReason });
    });

    it('streams tokenflow/auto from the routed model', async () => {
      const lines = await runPython({ ...base(), model: 'tokenflow/auto', prompt: CODE_PROMPT });

      expect(lines[0]).toMatchObject({ model: CODER_ID, tokenflow: { category: 'code' } });
      expect(textOf(lines)).toBe(expectedFrom(CODER.model).content);
    });

    it('raises NotFoundError for an unknown model', async () => {
      const lines = await runPython({ ...base(), model: 'groq/no-such-model' });

      expect(lines).toEqual([
        expect.objectContaining({ error: 'NotFoundError', status: 404, message: expect.stringMatching(/not found/) }),
      ]);
    });

    it('aborts the upstream request when the stream is closed after two chunks', async () => {
      upstream.use({ eventDelayMs: 5 });
      const aborted = upstream.nextAbort();

      const lines = await runPython({ ...base(), model: CHATTER_ID, close_after: 2 });

      expect(lines.at(-1)).toEqual({ closed: true });
      await withinOneSecond(aborted);
    });
  });
});
