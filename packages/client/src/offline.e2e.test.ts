import { startMlService } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamGenerate, streamSelectModel, type TokenFlowClient } from './index.ts';
import { type MlStack, startMlStack } from './test/stack.ts';

// No provider key and HF_HUB_OFFLINE=1: the ML service's default settings, real models from wheels.
describe('with no provider key and no network, every procedure answers with real local models', () => {
  let stack: MlStack;
  let client: TokenFlowClient;

  beforeAll(async () => {
    stack = await startMlStack(startMlService({ ML_GENERATOR_ENABLED: 'true', ML_LOG_LEVEL: 'info' }), {
      ROUTING_CLASSIFY_TIMEOUT_MS: '5000',
    });
    client = stack.client;
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('classifies with MiniLM', async () => {
    const result = await client.trpc.classify.mutate({ prompt: 'Write a limerick about a cat.' });
    expect(result).toMatchObject({ topCategory: 'creative', backend: 'embedding' });
  });

  it('compresses with the offline default: MiniLM with its distilled word scorer', async () => {
    const text =
      'The project team met on Monday to review the third quarter budget and the launch plan for the new product. '.repeat(
        12,
      );
    const result = await client.trpc.compress.mutate({ text, ratio: 0.5 });
    expect(result.method).toBe('distilled');
    expect(result.model).toMatch(/minilm/i);
    expect(result.compressedTokens).toBeLessThan(result.originTokens);
  });

  it('generates with the local provider', async () => {
    let text = '';
    let end: unknown = null;
    for await (const event of streamGenerate(client, {
      prompt: 'What is the capital of France?',
      model: 'local/smollm2-135m-instruct',
      temperature: 0,
      maxTokens: 20,
    })) {
      if (event.type === 'text') text += event.text;
      if (event.type === 'end') end = event;
    }
    expect(text).toMatch(/Paris/);
    expect(end).toMatchObject({ finishReason: 'stop', usage: { completionTokens: expect.any(Number) } });
  });

  it('routes selectModel to the local model for every category', async () => {
    const events = [];
    for await (const event of streamSelectModel(client, { prompt: 'Write a haiku about rain.', maxTokens: 30 })) {
      events.push(event);
    }
    const [metadata] = events;
    expect(metadata).toMatchObject({
      type: 'metadata',
      provider: 'local',
      model: 'smollm2-135m-instruct',
      category: 'creative',
      classification: 'ok',
      candidates: [{ provider: 'local', model: 'smollm2-135m-instruct' }],
    });
    expect(events.filter((e) => e.type === 'text').length).toBeGreaterThan(3);
    expect(events.at(-1)).toMatchObject({ type: 'end', usage: { promptTokens: expect.any(Number) } });

    // The classification and the local model's generation are logged under the gateway's request id
    // (by the service's log writer thread, so a line may land just after the stream ends).
    const requestId = metadata?.type === 'metadata' ? metadata.requestId : '';
    const messages = () =>
      stack.ml
        .logs()
        .flatMap((line) =>
          line.startsWith('{') ? [JSON.parse(line) as { request_id?: string; message?: string }] : [],
        )
        .filter((line) => line.request_id === requestId)
        .map((line) => line.message);
    await expect.poll(messages).toEqual(expect.arrayContaining(['classification done', 'generation done']));
  });
});
