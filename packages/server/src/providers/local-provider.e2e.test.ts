import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningMlService, startMlService, tinyModels } from '../../test-utils/index.ts';

// The ML service's own OpenAI-compatible endpoint, driven by the official openai client.
let ml: RunningMlService;
let openai: OpenAI;
const model = 'smollm2-135m-instruct';

beforeAll(async () => {
  ml = await startMlService({
    ML_GENERATOR_ENABLED: 'true',
    // A test that overran must not turn the next one away: wait for the slot.
    ML_GENERATION_WAIT_S: '30',
    ML_CLASSIFIER_BACKEND: 'nli',
    ML_CLASSIFIER_MODEL: tinyModels().nli,
    ML_COMPRESSOR_BACKEND: 'llmlingua2',
    ML_COMPRESSOR_MODEL: tinyModels().llmlingua2,
  });
  await ml.ready();
  openai = new OpenAI({ baseURL: `${ml.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}, 180_000);
afterAll(() => ml?.close());

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${ml.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('the local model through the openai client', { timeout: 60_000 }, () => {
  it('lists the local model', async () => {
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual([model]);
  });

  it('streams a completion token by token, the first piece well before the last', async () => {
    const started = performance.now();
    const arrivals: number[] = [];
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    const stream = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Count from 1 to 20, separated by commas.' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 40,
      temperature: 0,
    });
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content;
      if (piece) {
        arrivals.push(performance.now() - started);
        text += piece;
      }
      usage = chunk.usage ?? usage;
    }

    expect(arrivals.length).toBeGreaterThan(5);
    const first = arrivals[0] ?? 0;
    const last = arrivals.at(-1) ?? 0;
    expect(last - first).toBeGreaterThan((last - 0) * 0.3);
    expect(text).toMatch(/1.*2.*3/s);
    expect(usage?.completion_tokens).toBe(40);
  });

  it('honours max_tokens', async () => {
    const completion = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Write a long story about a lighthouse.' }],
      max_tokens: 7,
    });
    expect(completion.usage?.completion_tokens).toBe(7);
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });

  it('stops generating on the server when the client cancels', async () => {
    const cancelled = 'tokenflow_ml_generations_total{outcome="cancelled"}';
    const before = await metric(cancelled);
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      {
        model,
        messages: [{ role: 'user', content: 'Count from 1 to 1000, separated by commas.' }],
        stream: true,
        max_tokens: 1000,
        temperature: 0,
      },
      { signal: controller.signal },
    );
    let pieces = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++pieces === 5) controller.abort();
    }

    await expect.poll(() => metric(cancelled), { timeout: 10_000 }).toBe(before + 1);
  });
});
