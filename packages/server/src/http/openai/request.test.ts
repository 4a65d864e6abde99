import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { retryLater } from '../../limits/refusal.ts';
import { openAiError } from './errors.ts';
import { parseChatCompletionRequest, toProcedureCall } from './request.ts';

const messages = [{ role: 'user', content: 'Hi' }];

describe('chat.completions bodies', () => {
  it('maps a provider/model body onto generate, joining text parts and renaming developer to system', () => {
    const request = parseChatCompletionRequest({
      model: 'groq/llama-3.1-8b-instant',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello, ' },
            { type: 'text', text: 'world' },
          ],
        },
      ],
      max_completion_tokens: 16,
      top_p: 0.5,
      stop: [],
      seed: 7,
      user: 'someone',
    });

    expect(toProcedureCall(request)).toEqual({
      procedure: 'generate',
      input: {
        model: 'groq/llama-3.1-8b-instant',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello, world' },
        ],
        temperature: undefined,
        topP: 0.5,
        maxTokens: 16,
        stop: undefined,
        seed: 7,
        user: 'someone',
      },
    });
  });

  it('maps tools, tool calls, tool results, images and a json_schema format, keeping what is inside as sent', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, additionalProperties: false };
    const image = { url: 'https://example.com/cat.png', detail: 'low' };
    const call = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    const request = parseChatCompletionRequest({
      model: 'tokenflow/auto',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: image },
          ],
        },
        // What the openai SDKs replay of an earlier answer, `refusal` included.
        { role: 'assistant', content: null, refusal: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
    });

    expect(toProcedureCall(request)).toEqual({
      procedure: 'selectModel',
      input: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', imageUrl: image },
            ],
          },
          { role: 'assistant', content: null, toolCalls: [call] },
          { role: 'tool', toolCallId: 'call_1', content: 'sunny' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters, strict: true } }],
        toolChoice: { type: 'function', function: { name: 'get_weather' } },
        parallelToolCalls: false,
        responseFormat: { type: 'json_schema', jsonSchema: { name: 'answer', schema, strict: true } },
      },
    });
  });

  it('maps tokenflow/auto and the tokenflow extension onto selectModel', () => {
    const request = parseChatCompletionRequest({
      model: 'tokenflow/auto',
      messages,
      max_tokens: 8,
      tokenflow: { compress: { ratio: 0.5 }, prefer: 'cost', possibleCategories: ['code'] },
    });

    expect(toProcedureCall(request)).toMatchObject({
      procedure: 'selectModel',
      input: { messages, maxTokens: 8, compress: { ratio: 0.5 }, prefer: 'cost', possibleCategories: ['code'] },
    });
  });

  it('refuses the tokenflow extension for a named model', () => {
    const request = parseChatCompletionRequest({ model: 'groq/x', messages, tokenflow: { prefer: 'cost' } });

    expect(() => toProcedureCall(request)).toThrow(/apply to model "tokenflow\/auto" only/);
  });

  it.each([
    [{ model: 'groq/x', messages, functions: [], audio: {} }, /Unsupported field\(s\) "functions", "audio"/],
    [{ model: 'groq/x', messages, n: 2 }, /n must be 1/],
    [{ model: 'groq/x', messages: [{ role: 'function', content: 'x' }] }, /function messages are not supported/],
    [
      { model: 'groq/x', messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] },
      /must be "text" or "image_url", not "input_audio"/,
    ],
    [
      { model: 'groq/x', messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
      /a system message's content parts must be "text", not "image_url"/,
    ],
    [{ model: 'groq/x', messages: [{ role: 'user', content: 5 }] }, /content must be a string/],
    [[], /must be a JSON object/],
  ])('refuses %j with a message that says why', (body, message) => {
    const error = (() => {
      try {
        parseChatCompletionRequest(body);
      } catch (e) {
        return e;
      }
    })();

    expect(error).toBeInstanceOf(TRPCError);
    expect(openAiError(error)).toMatchObject({
      status: 400,
      body: { error: { type: 'invalid_request_error', message: expect.stringMatching(message) } },
    });
  });
});

describe('OpenAI errors', () => {
  it('answers a rate limit with 429 and the retry-after headers OpenAI SDKs wait for', () => {
    const error = openAiError(
      new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'slow down', cause: retryLater(1500) }),
    );

    expect(error).toMatchObject({
      status: 429,
      headers: { 'retry-after': '2', 'retry-after-ms': '1500' },
      body: { error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded' } },
    });
  });
});
