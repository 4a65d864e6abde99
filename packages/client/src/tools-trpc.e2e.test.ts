import { expectedToolCallsFrom, TOOL_RECORDINGS } from '@tokenflow/server/test-utils';
import { describe, expect, it } from 'vitest';
import { assembleToolCalls, isTokenFlowError, streamGenerate, streamSelectModel } from './index.ts';
import {
  AGENT,
  AGENT_B,
  collect,
  expectedEvents,
  id,
  parseSse,
  recordedTurn,
  toolCallEvents,
  toolStack,
  unusualToolStream,
} from './test/tool-recordings.ts';

describe('tools and tool calls through generate and selectModel (WebSocket) and the REST API, against real OpenAI recordings', () => {
  const stack = toolStack();

  describe('generate over WebSocket', () => {
    it.each(TOOL_RECORDINGS)(
      'relays every tool-call fragment of %s in order, one event each, and assembles the calls',
      async (name) => {
        const { expected, input } = recordedTurn(name);

        const events = await collect(streamGenerate(stack.client, { ...input, model: `openrouter/${name}` }));

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
        const sent = stack.upstream.requests[0]?.body;
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
      stack.upstream.use({ body });

      const events = await collect(
        streamGenerate(stack.client, {
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
      const error = await collect(
        streamGenerate(stack.client, { ...input, model: 'local/smollm2-135m-instruct' }),
      ).catch((e: unknown) => e);

      expect(isTokenFlowError(error) ? error.data?.code : error).toBe('BAD_REQUEST');
      expect(String(error)).toMatch(/The local model answers plain text chats only; this request has tools/);
    });
  });

  describe('selectModel', () => {
    it.each(TOOL_RECORDINGS)(
      'routes %s to function-calling without the classifier, only to models that take tools, and relays it whole',
      async (name) => {
        const { expected, input } = recordedTurn(name);
        stack.upstream.use({ fixture: name });

        const events = await collect(streamSelectModel(stack.client, input));

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
        expect(events.at(-1)).toMatchObject({
          type: 'end',
          ...AGENT,
          finishReason: 'tool_calls',
          toolCalls: expected.toolCalls,
        });
        expect(JSON.stringify(stack.upstream.requests[0]?.body.tools)).toBe(JSON.stringify(expected.request.tools));
      },
    );

    it('falls back to the next tool-capable model with the same tools when the first fails', async () => {
      const { input } = recordedTurn('openai-tools-agent-0');
      stack.upstream.use((request) =>
        request.body.model === AGENT.model ? { fault: { kind: 'status', status: 503 } } : {},
      );

      const events = await collect(streamSelectModel(stack.client, input));

      expect(events.filter((e) => e.type === 'fallback')).toMatchObject([{ from: AGENT, to: AGENT_B }]);
      expect(events.at(-1)).toMatchObject({
        type: 'end',
        ...AGENT_B,
        toolCalls: expectedToolCallsFrom('openai-tools-multi-3').toolCalls,
      });
      const [first, second] = stack.upstream.requests.map((r) => JSON.stringify(r.body.tools));
      expect(second).toBe(first);
    });

    it('says which flag each model lacks when no model can serve the request', async () => {
      const { input } = recordedTurn('openai-tools-agent-0');
      const image = { type: 'image_url' as const, imageUrl: { url: 'https://example.com/photo.jpg' } };

      const error = await collect(
        streamSelectModel(stack.client, {
          ...input,
          messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is this?' }, image] }],
        }),
      ).catch((e: unknown) => e);

      expect(isTokenFlowError(error) ? error.data?.code : error).toBe('PRECONDITION_FAILED');
      expect(String(error)).toMatch(/does not take images \(supportsVision\)/);
      expect(String(error)).toMatch(/does not support tools \(supportsTools\)/);
      expect(stack.upstream.requests).toHaveLength(0);
    });
  });

  it.each([
    ['/api/generate', 'openai-tools-agent-2'],
    ['/api/models/select', 'openai-tools-multi-3'],
  ] as const)(
    'streams tool-call fragments over %s (%s) as tool_call_chunk events, and the calls on end_stream',
    async (route, name) => {
      const { expected, input } = recordedTurn(name);
      stack.upstream.use({ fixture: name });

      const response = await fetch(`${stack.gateway.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(route === '/api/generate' ? { ...input, model: id(AGENT) } : input),
      });
      const events = parseSse(await response.text());

      expect(events.filter((e) => e.event === 'tool_call_chunk').map((e) => ({ type: 'toolCall', ...e.data }))).toEqual(
        expectedEvents(expected),
      );
      expect(events.at(-1)).toMatchObject({
        event: 'end_stream',
        data: { finishReason: 'tool_calls', toolCalls: expected.toolCalls },
      });
    },
  );
});
