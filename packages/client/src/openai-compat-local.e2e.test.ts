import { startMlService } from '@tokenflow/server/test-utils';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runPython, textOf } from './test/openai-clients.ts';
import { type MlStack, startMlStack } from './test/stack.ts';

// No provider key: the ML service's SmolLM2 answers as the "local" provider.
describe('the OpenAI-compatible endpoint with the local model', () => {
  let stack: MlStack;
  let gateway: MlStack['gateway'];

  beforeAll(async () => {
    stack = await startMlStack(startMlService({ ML_GENERATOR_ENABLED: 'true' }));
    gateway = stack.gateway;
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('streams text from local/smollm2-135m-instruct to the openai npm client', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: 'local/smollm2-135m-instruct',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
      max_tokens: 16,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });

    const { chunks, text } = await collect(stream);

    expect(text.trim().length).toBeGreaterThan(0);
    expect(chunks[0]?.model).toBe('local/smollm2-135m-instruct');
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
  }, 60_000);

  it('streams text from local/smollm2-135m-instruct to the openai Python package', async () => {
    const lines = await runPython({
      base_url: `${gateway.url}/v1`,
      api_key: 'unused',
      model: 'local/smollm2-135m-instruct',
      prompt: 'What is the capital of France?',
      max_tokens: 16,
      include_usage: true,
    });

    expect(textOf(lines).trim().length).toBeGreaterThan(0);
    expect(lines.find((line) => 'usage' in line)).toMatchObject({ usage: { completion_tokens: expect.any(Number) } });
  }, 60_000);
});
