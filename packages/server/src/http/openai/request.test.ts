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
    [{ model: 'groq/x', messages, tools: [], functions: [] }, /Unsupported field\(s\) "tools", "functions"/],
    [{ model: 'groq/x', messages, n: 2 }, /n must be 1/],
    [{ model: 'groq/x', messages: [{ role: 'tool', content: 'x' }] }, /tool and function messages are not supported/],
    [{ model: 'groq/x', messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }, /content must be a string/],
    [{ model: 'groq/x', messages, response_format: { type: 'json_object' } }, /only response_format/],
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
