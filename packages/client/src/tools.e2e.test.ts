import {
  expectedFrom,
  expectedToolCallsFrom,
  type ReplayUpstream,
  type RunningGateway,
  TOOL_RECORDINGS,
} from '@tokenflow/server/test-utils';
import OpenAI, { BadRequestError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assembleToolCalls,
  isTokenFlowError,
  type StreamEvent,
  streamGenerate,
  streamSelectModel,
  type TokenFlowClient,
} from './index.ts';
import { type Chunk, runPython } from './test/openai-clients.ts';
import { CHATTER, catalogModel } from './test/recorded-models.ts';
import { type Stack, startStack } from './test/stack.ts';
import { expectedEvents, recordedTurn, toolCallEvents } from './test/tool-recordings.ts';

// Models named after the recordings, so the replay upstream answers each with its stream.
const AGENT = { provider: 'openrouter', model: 'openai-tools-agent-0' } as const;
const AGENT_B = { provider: 'groq', model: 'openai-tools-multi-3' } as const;
const SEER = { provider: 'openrouter', model: 'openrouter-streaming-reasoning' } as const;
const CATALOG = {
  defaultCategory: 'general',
  models: [
    {
      ...catalogModel(AGENT, { 'function-calling': 1, general: 3 }),
      supportsTools: true,
      supportsStructuredOutputs: true,
    },
    { ...catalogModel(AGENT_B, { 'function-calling': 2 }), supportsTools: true },
    // Ranked first for function calling, but it cannot take tools: routing must pass it over.
    catalogModel(CHATTER, { general: 1, 'function-calling': 1 }),
    { ...catalogModel(SEER, { general: 2 }), supportsVision: true, supportsStructuredOutputs: true },
  ],
};
const id = (ref: { provider: string; model: string }) => `${ref.provider}/${ref.model}`;

async function collect(stream: AsyncIterable<StreamEvent>) {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

type SseEvent = { event: string; data: Record<string, unknown> };
const parseSse = (body: string): SseEvent[] =>
  body
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => {
      const [eventLine = '', dataLine = ''] = block.split('\n');
      return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) };
    });

/**
 * Shapes other providers send and other gateways get wrong: an empty `arguments`
 * fragment (it killed LiteLLM streams, BerriAI/litellm#40069) and a parallel call
 * whose fragments carry no id at all (LiteLLM dropped them, #20711).
 */
function unusualToolStream() {
  const chunk = (delta: unknown, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const fragments = [
    { index: 0, id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '' } },
    { index: 0, function: { arguments: '' } },
    { index: 1, function: { name: 'other', arguments: '{"a"' } },
    { index: 0, function: { arguments: '{}' } },
    { index: 1, function: { arguments: ':1}' } },
  ];
  return {
    fragments,
    body: [
      chunk({ role: 'assistant', content: null }),
      ...fragments.map((f) => chunk({ tool_calls: [f] })),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ].join(''),
  };
}

describe('tools, tool calls, images and structured outputs through every path, against real OpenAI recordings', () => {
  let stack: Stack;
  let upstream: ReplayUpstream;
  let gateway: RunningGateway;
  let client: TokenFlowClient;
  let openai: OpenAI;
  /** The same SDK straight to the replay upstream: what an agent gets without TokenFlow. */
  let direct: OpenAI;

  beforeAll(async () => {
    // No ML service: a request with tools must route without the classifier.
    stack = await startStack({}, { catalog: CATALOG });
    ({ upstream, gateway, client } = stack);
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    direct = new OpenAI({ baseURL: upstream.baseURL, apiKey: 'unused', maxRetries: 0 });
  }, 120_000);

  afterEach(() => {
    upstream.use({});
    upstream.requests.length = 0;
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('generate over WebSocket', () => {
    it.each(TOOL_RECORDINGS)(
      'relays every tool-call fragment of %s in order, one event each, and assembles the calls',
      async (name) => {
        const { expected, input } = recordedTurn(name);

        const events = await collect(streamGenerate(client, { ...input, model: `openrouter/${name}` }));

        expect(toolCallEvents(events)).toEqual(expectedEvents(expected));
        expect(events.at(-1)).toMatchObject({
          type: 'end',
          finishReason: 'tool_calls',
          toolCalls: expected.toolCalls,
          usage: {
            promptTokens: expected.usage?.promptTokens,
            completionTokens: expected.usage?.completionTokens,
            totalTokens: expected.usage?.totalTokens,
          },
        });
        expect(assembleToolCalls(events)).toEqual(expected.toolCalls);
        // The provider got the recorded turn: tools, earlier calls and results, as the agent sent them.
        const sent = upstream.requests[0]?.body;
        expect(JSON.stringify(sent?.tools)).toBe(JSON.stringify(expected.request.tools));
        expect(sent?.tool_choice).toEqual(expected.request.tool_choice);
        expect(sent?.messages).toEqual(
          (expected.request.messages as Array<Record<string, unknown>>).map((m) =>
            m.role === 'assistant' && m.content === undefined ? { ...m, content: null } : m,
          ),
        );
      },
    );

    it('relays an empty arguments fragment and a call without an id, inventing nothing', async () => {
      const { body } = unusualToolStream();
      upstream.use({ body });

      const events = await collect(
        streamGenerate(client, {
          model: id(AGENT),
          prompt: 'Look it up.',
          tools: [{ type: 'function', function: { name: 'lookup' } }],
        }),
      );

      expect(toolCallEvents(events)).toEqual([
        { type: 'toolCall', index: 0, id: 'call_a', name: 'lookup', argumentsDelta: '' },
        { type: 'toolCall', index: 0, argumentsDelta: '' },
        { type: 'toolCall', index: 1, name: 'other', argumentsDelta: '{"a"' },
        { type: 'toolCall', index: 0, argumentsDelta: '{}' },
        { type: 'toolCall', index: 1, argumentsDelta: ':1}' },
      ]);
      expect(events.at(-1)).toMatchObject({
        finishReason: 'tool_calls',
        toolCalls: [
          { index: 0, id: 'call_a', name: 'lookup', arguments: '{}' },
          { index: 1, id: '', name: 'other', arguments: '{"a":1}' },
        ],
      });
    });

    it('refuses tools for the local model with a clear BAD_REQUEST, before any call', async () => {
      const { input } = recordedTurn('openai-tools-agent-0');
      const error = await collect(streamGenerate(client, { ...input, model: 'local/smollm2-135m-instruct' })).catch(
        (e: unknown) => e,
      );

      expect(isTokenFlowError(error) ? error.data?.code : error).toBe('BAD_REQUEST');
      expect(String(error)).toMatch(/The local model answers plain text chats only; this request has tools/);
    });
  });

  describe('selectModel', () => {
    it('routes a request with tools to function-calling without the classifier, only to models that take tools', async () => {
      const { expected, input } = recordedTurn('openai-tools-agent-0');

      const events = await collect(streamSelectModel(client, input));

      expect(events[0]).toMatchObject({
        type: 'metadata',
        ...AGENT,
        category: 'function-calling',
        routing: 'tools',
        classification: 'skipped',
        candidates: [AGENT, AGENT_B],
        notes: [],
      });
      expect(toolCallEvents(events)).toEqual(expectedEvents(expected));
      expect(events.at(-1)).toMatchObject({ type: 'end', ...AGENT, toolCalls: expected.toolCalls });
    });

    it('falls back to the next tool-capable model with the same tools when the first fails', async () => {
      const { input } = recordedTurn('openai-tools-agent-0');
      upstream.use((request) => (request.body.model === AGENT.model ? { fault: { kind: 'status', status: 503 } } : {}));

      const events = await collect(streamSelectModel(client, input));

      expect(events.filter((e) => e.type === 'fallback')).toMatchObject([{ from: AGENT, to: AGENT_B }]);
      expect(events.at(-1)).toMatchObject({
        type: 'end',
        ...AGENT_B,
        toolCalls: expectedToolCallsFrom('openai-tools-multi-3').toolCalls,
      });
      const [first, second] = upstream.requests.map((r) => JSON.stringify(r.body.tools));
      expect(second).toBe(first);
    });

    it('says which flag each model lacks when no model can serve the request', async () => {
      const { input } = recordedTurn('openai-tools-agent-0');
      const image = { type: 'image_url' as const, imageUrl: { url: 'https://example.com/photo.jpg' } };

      const error = await collect(
        streamSelectModel(client, {
          ...input,
          messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is this?' }, image] }],
        }),
      ).catch((e: unknown) => e);

      expect(isTokenFlowError(error) ? error.data?.code : error).toBe('PRECONDITION_FAILED');
      expect(String(error)).toMatch(/does not take images \(supportsVision\)/);
      expect(String(error)).toMatch(/does not support tools \(supportsTools\)/);
      expect(upstream.requests).toHaveLength(0);
    });
  });

  it('streams tool-call fragments over the REST API as tool_call_chunk events, and the calls on end_stream', async () => {
    const { expected, input } = recordedTurn('openai-tools-agent-2');

    const response = await fetch(`${gateway.url}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...input, model: 'openrouter/openai-tools-agent-2' }),
    });
    const events = parseSse(await response.text());

    expect(events.filter((e) => e.event === 'tool_call_chunk').map((e) => ({ type: 'toolCall', ...e.data }))).toEqual(
      expectedEvents(expected),
    );
    expect(events.at(-1)).toMatchObject({
      event: 'end_stream',
      data: { finishReason: 'tool_calls', toolCalls: expected.toolCalls },
    });
  });

  describe('/v1 with the official openai npm client', () => {
    const tools = (name: (typeof TOOL_RECORDINGS)[number]) =>
      expectedToolCallsFrom(name).request.tools as OpenAI.Chat.Completions.ChatCompletionFunctionTool[];
    const prompt = [{ role: 'user' as const, content: 'Tell me: the capital of the country; the weather there' }];

    it.each(TOOL_RECORDINGS)(
      'sends %s in OpenAI tool-call chunks equal to the upstream, and chat.completions.stream() assembles the same message',
      async (name) => {
        const expected = expectedToolCallsFrom(name);
        const request = { messages: prompt, tools: tools(name), tool_choice: 'required' as const };

        const through = openai.chat.completions.stream({ ...request, model: `openrouter/${name}` });
        const chunks: Chunk[] = [];
        for await (const chunk of through) chunks.push(chunk);
        const viaTokenFlow = await through.finalChatCompletion();
        const straight = await direct.chat.completions.stream({ ...request, model: name }).finalChatCompletion();

        // Exactly the recording's fragments: id and type on a call's first fragment only.
        expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])).toEqual(expected.deltas);
        expect(viaTokenFlow.choices[0]?.message.tool_calls).toEqual(straight.choices[0]?.message.tool_calls);
        expect(viaTokenFlow.choices[0]?.finish_reason).toBe(straight.choices[0]?.finish_reason);
      },
    );

    it('writes unusual fragments in OpenAI chunks: type on a first fragment only, empty ones kept, no id invented', async () => {
      const { body, fragments } = unusualToolStream();
      upstream.use({ body });

      const stream = await openai.chat.completions.create({
        model: id(AGENT),
        messages: prompt,
        tools: [{ type: 'function', function: { name: 'lookup' } }],
        stream: true,
      });
      const deltas = [];
      for await (const chunk of stream) deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));

      expect(deltas).toEqual(fragments.map((f, i) => (i === 2 ? { ...f, type: 'function' } : f)));
    });

    it('answers without stream with message.tool_calls and finish_reason tool_calls', async () => {
      const expected = expectedToolCallsFrom('openai-tools-agent-0');

      const completion = await openai.chat.completions.create({
        model: id(AGENT),
        messages: prompt,
        tools: tools('openai-tools-agent-0'),
      });

      expect(completion.choices[0]).toMatchObject({
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: null,
          tool_calls: expected.toolCalls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.name, arguments: c.arguments },
          })),
        },
      });
    });

    it('runs a whole agent loop through tokenflow/auto with runTools: tool calls, tool results, final answer', async () => {
      const recorded = tools('openai-tools-agent-0');
      const schemaOf = (name: string) => recorded.find((t) => t.function.name === name)?.function.parameters ?? {};
      const calls: string[] = [];
      const tool = (name: string, result: string) => ({
        type: 'function' as const,
        function: {
          name,
          description: '',
          parameters: schemaOf(name),
          parse: JSON.parse,
          function: (args: unknown) => {
            calls.push(`${name}(${JSON.stringify(args)})`);
            return result;
          },
        },
      });
      // The upstream answers each turn as OpenAI did: by how many tool results the agent has sent.
      const turns: Record<number, string> = {
        0: 'openai-tools-agent-0',
        2: 'openai-tools-agent-1',
        3: 'openai-tools-agent-2',
        4: CHATTER.model,
      };
      upstream.use((request) => {
        const results = (request.body.messages as Array<{ role: string }>).filter((m) => m.role === 'tool').length;
        return { fixture: turns[results] ?? 'none' };
      });

      const runner = openai.chat.completions.runTools({
        model: 'tokenflow/auto',
        messages: prompt,
        tools: [
          tool('get_country', 'Mexico'),
          tool('get_product_name', 'Pydantic AI'),
          tool('get_weather', 'sunny'),
          tool('final_result', 'Final result processed.'),
        ],
      });

      expect(await runner.finalContent()).toBe(expectedFrom(CHATTER.model).content);
      expect(calls.map((c) => c.split('(')[0])).toEqual([
        'get_country',
        'get_product_name',
        'get_weather',
        'final_result',
      ]);
      expect(calls[2]).toBe('get_weather({"city":"Mexico City"})');
      expect(upstream.requests).toHaveLength(4);
      // Every turn went to a tool-capable model, with the tool results linked to their calls.
      expect(upstream.requests.map((r) => r.body.model)).toEqual(Array(4).fill(AGENT.model));
      const last = upstream.requests[3]?.body.messages as Array<Record<string, unknown>>;
      expect(last.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual([
        'Mexico',
        'Pydantic AI',
        'sunny',
        'Final result processed.',
      ]);
    });

    it('passes an image part and a json_schema response format to the upstream byte for byte', async () => {
      const image = {
        url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
        detail: 'high' as const,
      };
      const responseFormat = {
        type: 'json_schema' as const,
        json_schema: {
          name: 'photo_report',
          strict: true,
          schema: {
            type: 'object',
            properties: { city: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
            required: ['city', 'confidence'],
            additionalProperties: false,
          },
        },
      };

      const completion = await openai.chat.completions.create({
        model: 'tokenflow/auto',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Where was this taken?' },
              { type: 'image_url', image_url: image },
            ],
          },
        ],
        response_format: responseFormat,
        seed: 7,
        user: 'end-user-42',
      });

      // Only the model with supportsVision and supportsStructuredOutputs fits.
      expect(completion.model).toBe(id(SEER));
      const sent = upstream.requests[0]?.body as Record<string, unknown>;
      const parts = (sent.messages as Array<{ content: Array<Record<string, unknown>> }>)[0]?.content;
      expect(JSON.stringify(parts?.[1])).toBe(JSON.stringify({ type: 'image_url', image_url: image }));
      expect(JSON.stringify(sent.response_format)).toBe(JSON.stringify(responseFormat));
      expect(sent).toMatchObject({ seed: 7, user: 'end-user-42' });
    });

    it('refuses an http image and a tool choice without tools with 400s naming the field', async () => {
      const http = await openai.chat.completions
        .create({
          model: id(SEER),
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://example.com/a.png' } }] },
          ],
        })
        .catch((e: unknown) => e);
      const choice = await openai.chat.completions
        .create({ model: id(SEER), messages: prompt, tool_choice: 'required' })
        .catch((e: unknown) => e);

      expect(http).toBeInstanceOf(BadRequestError);
      expect((http as BadRequestError).message).toMatch(/must be an https:\/\/ URL or a data:image/);
      expect(choice).toBeInstanceOf(BadRequestError);
      expect((choice as BadRequestError).message).toMatch(/toolChoice and parallelToolCalls need tools/);
      expect(upstream.requests).toHaveLength(0);
    });
  });

  it('gives the official Python client the same tool calls, parsed by pydantic_function_tool, as the upstream', async () => {
    const options = { api_key: 'unused', prompt: 'Which country and product?', tools: true };

    const viaTokenFlow = await runPython({ ...options, base_url: `${gateway.url}/v1`, model: id(AGENT) });
    const straight = await runPython({ ...options, base_url: upstream.baseURL, model: AGENT.model });

    expect(viaTokenFlow).toEqual(straight);
    expect(viaTokenFlow.at(-1)).toEqual({
      final: expectedToolCallsFrom('openai-tools-agent-0').toolCalls.map(({ id, name, arguments: args }) => ({
        id,
        name,
        arguments: args,
      })),
      finish_reason: 'tool_calls',
    });
    expect(viaTokenFlow.filter((line) => line.event === 'tool_calls.function.arguments.done')).toHaveLength(2);
  });
});
