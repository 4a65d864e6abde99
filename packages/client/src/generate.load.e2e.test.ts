import { expectedFrom } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamGenerate } from './index.ts';
import { type Stack, startStack } from './test/stack.ts';

let stack: Stack;
beforeAll(async () => {
  // Production timeouts: on a loaded 2-core machine 200 streams share one CPU with their upstream.
  stack = await startStack({ GENERATE_FIRST_TOKEN_TIMEOUT_MS: '60000', GENERATE_IDLE_TIMEOUT_MS: '30000' });
});
afterAll(async () => {
  await stack?.close();
});

describe('generate under load', () => {
  it('completes 200 concurrent subscriptions on one WebSocket with every token in order', async () => {
    const model = 'openrouter-stream-with-native-options';
    const expected = expectedFrom(model);
    stack.upstream.use({ eventDelayMs: 1 });

    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const texts: string[] = [];
        let last = '';
        for await (const event of streamGenerate(stack.client, {
          prompt: 'Who are you',
          model,
          provider: 'openrouter',
        })) {
          if (event.type === 'text') texts.push(event.text);
          last = event.type;
        }
        return { text: texts.join(''), last };
      }),
    );

    expect(new Set(outcomes.map((o) => o.text))).toEqual(new Set([expected.content]));
    expect(outcomes.every((o) => o.last === 'end')).toBe(true);
    expect(stack.upstream.requests).toHaveLength(200);
  });
});
