import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { agentTurns, expectedFrom, expectedToolCallsFrom, TOOL_RECORDINGS } from '@tokenflow/server/test-utils';
import OpenAI, { BadRequestError } from 'openai';
import { describe, expect, it } from 'vitest';
import { type Chunk, runPython } from './test/openai-clients.ts';
import { CHATTER } from './test/recorded-models.ts';
import { AGENT, id, SEER, toolStack, unusualToolStream } from './test/tool-recordings.ts';

describe('tools, images and structured outputs through /v1 with the official openai clients, against real OpenAI recordings', () => {
  const stack = toolStack();
  /** The official npm client, through TokenFlow's /v1. */
  const openai = () => new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  /** The same SDK straight to the replay upstream: what an agent gets without TokenFlow. */
  const direct = () => new OpenAI({ baseURL: stack.upstream.baseURL, apiKey: 'unused', maxRetries: 0 });

  describe('/v1 with the official openai npm client', () => {
    const tools = (name: (typeof TOOL_RECORDINGS)[number]) =>
      expectedToolCallsFrom(name).request.tools as OpenAI.Chat.Completions.ChatCompletionFunctionTool[];
    const prompt = [{ role: 'user' as const, content: 'Tell me: the capital of the country; the weather there' }];

    it.each(TOOL_RECORDINGS)(
      'sends %s in OpenAI tool-call chunks equal to the upstream, and chat.completions.stream() assembles the same message',
      async (name) => {
        const expected = expectedToolCallsFrom(name);
        const request = { messages: prompt, tools: tools(name), tool_choice: 'required' as const };

        const through = openai().chat.completions.stream({ ...request, model: `openrouter/${name}` });
        const chunks: Chunk[] = [];
        for await (const chunk of through) chunks.push(chunk);
        const viaTokenFlow = await through.finalChatCompletion();
        const straight = await direct()
          .chat.completions.stream({ ...request, model: name })
          .finalChatCompletion();

        // Exactly the recording's fragments: id and type on a call's first fragment only.
        expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])).toEqual(expected.deltas);
        expect(viaTokenFlow.choices[0]?.message.tool_calls).toEqual(straight.choices[0]?.message.tool_calls);
        expect(viaTokenFlow.choices[0]?.finish_reason).toBe(straight.choices[0]?.finish_reason);
      },
    );

    it('writes unusual fragments in OpenAI chunks: type on a first fragment only, empty ones kept, no id invented', async () => {
      const { body, fragments } = unusualToolStream();
      stack.upstream.use({ body });

      const stream = await openai().chat.completions.create({
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

      const completion = await openai().chat.completions.create({
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
      // The upstream answers each turn as OpenAI did, by how many tool results the agent has sent.
      stack.upstream.use(agentTurns);
      const agent = (client: OpenAI, model: string, stream: boolean) => {
        const params = {
          model,
          messages: prompt,
          tools: [
            tool('get_country', 'Mexico'),
            tool('get_product_name', 'Pydantic AI'),
            tool('get_weather', 'sunny'),
            tool('final_result', 'Final result processed.'),
          ],
        };
        return stream
          ? client.chat.completions.runTools({ ...params, stream: true })
          : client.chat.completions.runTools(params);
      };
      // Straight to the upstream (it streams, as the recordings do), then through TokenFlow both ways.
      const straight = agent(direct(), AGENT.model, true);
      await straight.done();
      const straightCalls = calls.splice(0);
      const streamed = agent(openai(), 'tokenflow/auto', true);
      await streamed.done();
      const streamedCalls = calls.splice(0);
      stack.upstream.requests.length = 0;
      const runner = agent(openai(), 'tokenflow/auto', false);

      // The same conversation, turn for turn, as the agent gets straight from the upstream.
      expect(await streamed.finalContent()).toBe(await straight.finalContent());
      expect(streamedCalls).toEqual(straightCalls);
      expect(streamed.messages).toEqual(straight.messages);
      expect(await runner.finalContent()).toBe(await straight.finalContent());
      expect(calls).toEqual(straightCalls);
      expect(await runner.finalContent()).toBe(expectedFrom(CHATTER.model).content);
      expect(calls.map((c) => c.split('(')[0])).toEqual([
        'get_country',
        'get_product_name',
        'get_weather',
        'final_result',
      ]);
      expect(calls[2]).toBe('get_weather({"city":"Mexico City"})');
      expect(stack.upstream.requests).toHaveLength(4);
      // Every turn went to a tool-capable model, with the tool results linked to their calls.
      expect(stack.upstream.requests.map((r) => r.body.model)).toEqual(Array(4).fill(AGENT.model));
      const last = stack.upstream.requests[3]?.body.messages as Array<Record<string, unknown>>;
      expect(last.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual([
        'Mexico',
        'Pydantic AI',
        'sunny',
        'Final result processed.',
      ]);
    });

    it('runs the README agent example (examples/agent.ts) to its final answer', async () => {
      stack.upstream.use(agentTurns);
      const example = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'agent.ts');

      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', example], {
        env: { ...process.env, TOKENFLOW_URL: stack.gateway.url },
        timeout: 60_000,
      });

      expect(stdout.trim()).toBe(expectedFrom(CHATTER.model).content.trim());
      expect(stderr).toContain('[tool get_weather({"city":"Mexico City"}) -> sunny]');
      expect(stderr).toContain(`[turn answered by ${id(AGENT)}, category function-calling]`);
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

      const completion = await openai().chat.completions.create({
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
      const sent = stack.upstream.requests[0]?.body as Record<string, unknown>;
      const parts = (sent.messages as Array<{ content: Array<Record<string, unknown>> }>)[0]?.content;
      expect(JSON.stringify(parts?.[1])).toBe(JSON.stringify({ type: 'image_url', image_url: image }));
      expect(JSON.stringify(sent.response_format)).toBe(JSON.stringify(responseFormat));
      expect(sent).toMatchObject({ seed: 7, user: 'end-user-42' });
    });

    it('refuses an http image and a tool choice without tools with 400s naming the field', async () => {
      const http = await openai()
        .chat.completions.create({
          model: id(SEER),
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://example.com/a.png' } }] },
          ],
        })
        .catch((e: unknown) => e);
      const choice = await openai()
        .chat.completions.create({ model: id(SEER), messages: prompt, tool_choice: 'required' })
        .catch((e: unknown) => e);

      expect(http).toBeInstanceOf(BadRequestError);
      expect((http as BadRequestError).message).toMatch(/must be an https:\/\/ URL or a data:image/);
      expect(choice).toBeInstanceOf(BadRequestError);
      expect((choice as BadRequestError).message).toMatch(/toolChoice and parallelToolCalls need tools/);
      expect(stack.upstream.requests).toHaveLength(0);
    });
  });

  it('gives the official Python client the same tool calls, parsed by pydantic_function_tool, as the upstream', async () => {
    const options = { api_key: 'unused', prompt: 'Which country and product?', tools: true };

    const viaTokenFlow = await runPython({ ...options, base_url: `${stack.gateway.url}/v1`, model: id(AGENT) });
    const straight = await runPython({ ...options, base_url: stack.upstream.baseURL, model: AGENT.model });

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
