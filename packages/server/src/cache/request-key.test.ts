import { describe, expect, it } from 'vitest';
import { generateInputSchema, selectModelInputSchema } from '../generation/input.ts';
import { canonicalJson, requestKeys } from './request-key.ts';

const generate = (input: object) =>
  requestKeys('generate', generateInputSchema.parse({ model: 'groq/llama', ...input }));
const select = (input: object) => requestKeys('selectModel', selectModelInputSchema.parse(input));

const tool = (parameters: object) => ({ type: 'function', function: { name: 'lookup', parameters } });

describe('the cache keys of a request', () => {
  it('are the same for a prompt and the one user message it stands for', () => {
    expect(generate({ prompt: 'hi' })).toEqual(generate({ messages: [{ role: 'user', content: 'hi' }] }));
  });

  it('ignore the order of keys inside tool schemas, and the cache controls themselves', () => {
    const a = generate({ prompt: 'hi', tools: [tool({ type: 'object', properties: {} })] });
    const b = generate({
      prompt: 'hi',
      tools: [tool({ properties: {}, type: 'object' })],
      cache: { mode: 'write-only', ttlSeconds: 5 },
    });
    expect(a.exact).toBe(b.exact);
  });

  it('differ for anything that shapes the answer: model, sampling, tools, format, procedure', () => {
    const base = generate({ prompt: 'hi' }).exact;
    expect(generate({ prompt: 'hi', temperature: 0.5 }).exact).not.toBe(base);
    expect(generate({ prompt: 'hi', model: 'other' }).exact).not.toBe(base);
    expect(generate({ prompt: 'hi', responseFormat: { type: 'json_object' } }).exact).not.toBe(base);
    expect(generate({ prompt: 'hi', tools: [tool({})] }).exact).not.toBe(base);
    expect(select({ prompt: 'hi' }).exact).not.toBe(select({ prompt: 'hi', prefer: 'cost' }).exact);
  });

  it('put two requests in one semantic partition only when all but the last user turn match', () => {
    const ask = (system: string, question: string) =>
      select({
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: question },
        ],
      });
    expect(ask('Be brief.', 'What is Rust?').partition).toBe(ask('Be brief.', 'Tell me what Rust is').partition);
    expect(ask('Be brief.', 'What is Rust?').partition).not.toBe(ask('Be verbose.', 'What is Rust?').partition);
    expect(ask('Be brief.', 'What is Rust?').lastUserText).toBe('What is Rust?');
  });

  it('have no semantic partition when the conversation ends in a tool result', () => {
    const keys = select({
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          toolCalls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }],
        },
        { role: 'tool', toolCallId: 'c1', content: 'sunny' },
      ],
    });
    expect(keys.partition).toBeNull();
  });

  it('write canonical JSON with sorted keys at every depth', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null, skip: undefined })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });
});
