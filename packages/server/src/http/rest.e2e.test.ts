import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedFrom,
  type ReplayUpstream,
  type RunningGateway,
  type RunningMlService,
  startGateway,
  startReplayUpstream,
  startTestMlService,
} from '../../test-utils/index.ts';

type SseEvent = { event: string; data: Record<string, unknown> };

function parseSse(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => {
      const [eventLine = '', dataLine = ''] = block.split('\n');
      return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) };
    });
}

let ml: RunningMlService;
let upstream: ReplayUpstream;
let gateway: RunningGateway;
const post = (path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  });

beforeAll(async () => {
  ml = await startTestMlService();
  upstream = await startReplayUpstream();
  gateway = await startGateway({
    ML_SERVICE_URL: ml.url,
    GROQ_API_KEY: 'gsk-test-0123456789',
    GROQ_API_BASE_URL: upstream.baseURL,
    HTTP_MAX_BODY_BYTES: String(64 * 1024),
    // CI runs the packages' suites side by side on two cores: give classification room.
    ROUTING_CLASSIFY_TIMEOUT_MS: '5000',
  });
}, 180_000);
afterEach(() => upstream.use({}));
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await ml?.close();
});

describe('the REST API', () => {
  it('POST /api/classify takes and returns the snake_case shape', async () => {
    const response = await post('/api/classify', {
      prompt: 'Write a Python function that parses JSON.',
      possible_categories: null,
      multi_label: false,
    });

    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ top_category: 'code', backend: 'embedding' });
    expect(Object.keys(body).sort()).toEqual([
      'backend',
      'confidence',
      'elapsed_ms',
      'labels',
      'model',
      'top_category',
    ]);
  });

  it('POST /api/compress takes { text, ratio } and returns token counts', async () => {
    const text = 'The quarterly meeting reviewed the budget and the launch plan for March. '.repeat(20);
    const response = await post('/api/compress', { text, ratio: 0.5 });

    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.compressed_tokens).toBeLessThan(body.origin_tokens);
    expect(body).toHaveProperty('saving_percent');
    expect(body).toHaveProperty('compressed_text');
  });

  it('GET /api/model-rankings lists the ranked models per category with their availability', async () => {
    const body = await (await fetch(`${gateway.url}/api/model-rankings`)).json();

    expect(body.defaultCategory).toBe('general');
    expect(body.categories.reasoning[0]).toMatchObject({ rank: 1, provider: 'groq', available: true });
    expect(body.categories.code.some((m: { available: boolean }) => !m.available)).toBe(true);
  });

  it('answers invalid input with 400 and a readable message, an unknown path with 404, a large body with 413', async () => {
    const invalid = await post('/api/compress', { text: 'x', ratio: 3 });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/^Invalid input: ratio/),
    });

    expect((await post('/api/nope', {})).status).toBe(404);
    expect((await post('/api/compress', { text: 'x'.repeat(70_000) })).status).toBe(413);
    const notJson = await fetch(`${gateway.url}/api/classify`, { method: 'POST', body: '{oops' });
    expect([notJson.status, (await notJson.json()).message]).toEqual([400, 'The body is not valid JSON.']);
  });
});

describe('the SSE streams', () => {
  it('POST /api/generate streams metadata, text_chunk and end_stream events', async () => {
    const model = 'groq-thinking-part-iter-0';
    const response = await post('/api/generate', { prompt: 'Alfajores?', model, provider: 'groq' });

    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await response.text());
    expect(events[0]).toMatchObject({ event: 'metadata', data: { provider: 'groq', model } });
    const text = events
      .filter((e) => e.event === 'text_chunk')
      .map((e) => e.data.text)
      .join('');
    expect(text).toBe(expectedFrom(model).content);
    expect(events.at(-1)).toEqual({
      event: 'end_stream',
      // The recording's model is not in the built-in catalog and Groq reports no cost: no cost.
      data: {
        finishReason: 'stop',
        provider: 'groq',
        model,
        usage: { ...expectedFrom(model).usage, costUsd: null, costSource: null },
      },
    });
  });

  it('POST /api/models/select takes the REST body and streams from the routed model', async () => {
    // The built-in catalog names real models; the replay upstream answers each with one recording.
    upstream.use({ fixture: 'groq-thinking-part-iter-0' });
    const response = await post('/api/models/select', {
      prompt: 'Write a Python function that merges two sorted lists.',
      temperature: 0.2,
      topP: 0.9,
      maxTokens: 256,
      possibleCategories: null,
    });

    const events = parseSse(await response.text());
    expect(events[0]?.event).toBe('metadata');
    expect(events[0]?.data).toMatchObject({
      category: 'code',
      classification: 'ok',
      provider: 'groq',
      model: 'moonshotai/kimi-k2-instruct-0905',
    });
    expect(events.at(-1)?.event).toBe('end_stream');
    expect(upstream.requests.at(-1)?.body).toMatchObject({ temperature: 0.2, top_p: 0.9, max_tokens: 256 });
  });

  it('ends a stream that fails midway with an error event', async () => {
    upstream.use({ fault: { kind: 'midstream-error', style: 'groq', afterEvents: 20 } });
    const response = await post('/api/generate', { prompt: 'x', model: 'groq-thinking-part-iter-0' });

    const events = parseSse(await response.text());
    expect(events.at(-1)).toMatchObject({
      event: 'error',
      data: { code: 'BAD_GATEWAY', upstream: { provider: 'groq', status: 502 } },
    });
  });

  it('aborts the upstream request when the HTTP client disconnects mid-stream', async () => {
    upstream.use({ eventDelayMs: 5 });
    const aborted = upstream.nextAbort();
    const controller = new AbortController();
    const response = await post(
      '/api/generate',
      { prompt: 'x', model: 'groq-thinking-part-iter-0' },
      {
        signal: controller.signal,
      },
    );
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();

    await aborted;
    await expect.poll(() => gateway.gateway.lifecycle.activeStreams).toBe(0);
  });
});
