import { describe, expect, it } from 'vitest';
import { CHAT_LIMITS } from './chat-schema.ts';
import { generateInputSchema } from './input.ts';

const tool = (name: string, parameters: Record<string, unknown> = { type: 'object' }) => ({
  type: 'function' as const,
  function: { name, parameters },
});
const base = { model: 'groq/x', messages: [{ role: 'user', content: 'Hi' }] };

/** The first issue's path and message, as the caller would read them. */
function refusal(input: unknown) {
  const parsed = generateInputSchema.safeParse(input);
  if (parsed.success) return null;
  const [issue] = parsed.error.issues;
  return `${issue?.path.join('.')}: ${issue?.message}`;
}

describe('the chat protocol fields of generate and selectModel', () => {
  it('takes a whole agent turn: tools, a tool choice, earlier calls and results, an image and a json_schema format', () => {
    const input = {
      model: 'groq/x',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather where this photo was taken?' },
            { type: 'image_url', imageUrl: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          toolCalls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', toolCallId: 'call_1', content: '{"sky":"clear"}' },
      ],
      tools: [tool('get_weather')],
      toolChoice: 'required',
      parallelToolCalls: false,
      responseFormat: { type: 'json_schema', jsonSchema: { name: 'report', schema: { type: 'object' }, strict: true } },
      seed: 42,
      user: 'user-7',
    };

    expect(generateInputSchema.parse(input)).toEqual(input);
  });

  it.each([
    [{ ...base, toolChoice: 'auto' }, /^toolChoice: toolChoice and parallelToolCalls need tools/],
    [
      { ...base, tools: [tool('a')], toolChoice: { type: 'function', function: { name: 'b' } } },
      /^toolChoice: toolChoice names a function that is not among the tools/,
    ],
    [{ ...base, tools: [tool('a'), tool('a')] }, /^tools: two tools have the same name/],
    [{ ...base, tools: [tool('has space')] }, /^tools.0.function.name: must be 1 to 64 letters/],
    [{ ...base, tools: Array.from({ length: 129 }, (_, i) => tool(`t${i}`)) }, /^tools: Too big/],
    [
      { ...base, tools: [tool('big', { description: 'x'.repeat(CHAT_LIMITS.schemaJsonChars) })] },
      /^tools.0.function.parameters: must be at most 100000 characters as JSON/,
    ],
    [
      {
        ...base,
        messages: [{ role: 'user', content: [{ type: 'image_url', imageUrl: { url: 'http://example.com/a.png' } }] }],
      },
      /^messages.0.content.*must be an https:\/\/ URL or a data:image/,
    ],
    [
      {
        ...base,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', imageUrl: { url: `data:image/png;base64,${'A'.repeat(4_000_000)}` } }],
          },
        ],
      },
      /^messages.0.content.*an https URL of at most 8192 characters or a data: URI of at most 4000000/,
    ],
    [
      { ...base, messages: [{ role: 'assistant', content: null }] },
      /^messages.0.content: an assistant message needs content or toolCalls/,
    ],
    [{ ...base, messages: [{ role: 'tool', content: 'sunny' }] }, /^messages.0.toolCallId: Invalid input/],
    [{ ...base, messages: [{ role: 'tool', tool_call_id: 'c', content: 'x' }] }, /^messages.0/],
    [
      { ...base, responseFormat: { type: 'json_schema', jsonSchema: { name: 'a b' } } },
      /^responseFormat.jsonSchema.name/,
    ],
    [{ ...base, responseFormat: { type: 'xml' } }, /^responseFormat.type/],
    // Malformed tools and calls are named by their path, never answered with a TypeError.
    [{ ...base, tools: [5] }, /^tools.0: Invalid input: expected object, received number/],
    [{ ...base, tools: [{ type: 'function' }] }, /^tools.0.function: Invalid input: expected object/],
    [{ ...base, messages: [{ role: 'assistant', toolCalls: [{ id: 'a' }] }] }, /^messages.0.toolCalls.0.type/],
  ])('refuses case %#', (input, message) => {
    expect(refusal(input)).toMatch(message);
  });
});
