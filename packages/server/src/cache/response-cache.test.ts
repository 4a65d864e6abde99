import { describe, expect, it } from 'vitest';
import type { SelectModelEvent } from '../generation/events.ts';
import { selectModelInputSchema } from '../generation/input.ts';
import { MemoryStore } from './memory-store.ts';
import { ResponseCache, type ResponseCacheOptions } from './response-cache.ts';

type End = Extract<SelectModelEvent, { type: 'end' }>;

function cache(overrides: Partial<ResponseCacheOptions> = {}) {
  const counted: string[] = [];
  const responseCache = new ResponseCache({
    mode: 'semantic',
    store: new MemoryStore(10_000_000, { evicted: () => undefined }),
    ttlSeconds: 60,
    threshold: 0.8,
    partitionEntries: 8,
    scope: 'key',
    metrics: {
      lookup: (kind, result) => counted.push(`${kind} ${result}`),
      stored: () => undefined,
      guardRefused: (reason) => counted.push(`guard ${reason}`),
    },
    ...overrides,
  });
  return { responseCache, counted };
}

const input = (prompt: string, extra: object = {}) => selectModelInputSchema.parse({ prompt, ...extra });

const metadata: SelectModelEvent = {
  type: 'metadata',
  requestId: 'r1',
  provider: 'groq',
  model: 'llama',
  category: 'general',
  confidence: 0.9,
  scores: [],
  classification: 'ok',
  routing: 'classified',
  candidates: [{ provider: 'groq', model: 'llama' }],
  compression: null,
  classificationMs: 3,
  compressionMs: null,
  notes: [],
};
const end = (finishReason: string | null): End => ({
  type: 'end',
  finishReason,
  provider: 'groq',
  model: 'llama',
  usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7, costUsd: 0.001, costSource: 'catalog' },
  savings: null,
});

/** Runs one miss through the request cache: the answer's events pass, then its end. */
async function answer(request: ReturnType<ResponseCache['forRequest']>, text: string, finish: string | null = 'stop') {
  const recorder = request?.recorder();
  for (const event of [
    metadata,
    { type: 'text' as const, text: text.slice(0, 3) },
    { type: 'text' as const, text: text.slice(3) },
  ]) {
    recorder?.observe(event);
  }
  if (request && recorder) await request.store(recorder, end(finish));
}

/** What the classifier returns that the cache reads: the embedding and the model that made it. */
const embedded = (embedding: number[], model = 'minilm') => ({ embedding, model });

// Unit vectors: the angle between them sets their cosine similarity.
const at = (degrees: number) => [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];

describe('the response cache', () => {
  it('replays an exact hit whole, with joined text, the original end and its age', async () => {
    const { responseCache, counted } = cache();
    const request = responseCache.forRequest('selectModel', 'alice', input('What is Rust?'));
    expect(await request?.exact()).toBeNull();
    await answer(request, 'A language.');

    const hit = await responseCache.forRequest('selectModel', 'alice', input('What is Rust?'))?.exact();

    expect(hit?.hit).toMatchObject({ hit: 'exact', similarity: 1 });
    expect(hit?.stored.events).toEqual([{ type: 'text', text: 'A language.' }]);
    expect(hit?.stored.end).toMatchObject({ finishReason: 'stop', usage: { costUsd: 0.001 } });
    expect(counted).toEqual(['exact miss', 'exact hit']);
  });

  it('stores only answers that finished (stop, tool_calls), and length cut-offs only for requests that accept them', async () => {
    const { responseCache } = cache();
    const stored = async (prompt: string, finish: string | null, extra: object = {}) => {
      await answer(responseCache.forRequest('selectModel', 'alice', input(prompt, extra)), 'xyz', finish);
      return (await responseCache.forRequest('selectModel', 'alice', input(prompt, extra))?.exact()) !== null;
    };
    expect(await stored('a', 'stop')).toBe(true);
    expect(await stored('b', 'tool_calls')).toBe(true);
    expect(await stored('c', 'length')).toBe(false);
    expect(await stored('d', null)).toBe(false);
    expect(await stored('e', 'content_filter')).toBe(false);
    expect(await stored('f', 'length', { cache: { acceptTruncated: true } })).toBe(true);
    // Served only to a request that accepts a truncated answer too.
    expect(await responseCache.forRequest('selectModel', 'alice', input('f'))?.exact()).toBeNull();
  });

  it('finds a similar prompt’s answer above the threshold, and not below it', async () => {
    const { responseCache } = cache();
    const first = responseCache.forRequest('selectModel', 'alice', input('What is Rust?'));
    expect(await first?.similar(embedded(at(0)))).toBeNull();
    await answer(first, 'A language.');

    const close = responseCache.forRequest('selectModel', 'alice', input('Tell me what Rust is'));
    const far = responseCache.forRequest('selectModel', 'alice', input('Tell me what Rust is'));
    const strict = responseCache.forRequest(
      'selectModel',
      'alice',
      input('Tell me what Rust is', { cache: { threshold: 0.99 } }),
    );

    expect((await close?.similar(embedded(at(30))))?.hit).toMatchObject({
      hit: 'semantic',
      similarity: expect.closeTo(0.866, 3),
    });
    expect(await far?.similar(embedded(at(40)))).toBeNull(); // cos 40° = 0.766 < 0.8
    expect(await strict?.similar(embedded(at(30)))).toBeNull();
  });

  it('compares embeddings of one model only, and takes a request’s threshold only when stricter', async () => {
    const { responseCache } = cache();
    const first = responseCache.forRequest('selectModel', 'alice', input('What is Rust?'));
    await first?.similar(embedded(at(0)));
    await answer(first, 'A language.');
    const ask = (model: string, extra: object = {}, degrees = 30) =>
      responseCache
        .forRequest('selectModel', 'alice', input('Tell me what Rust is', extra))
        ?.similar(embedded(at(degrees), model));

    expect(await ask('another-encoder')).toBeNull();
    expect(await ask('minilm', { cache: { threshold: 0.1 } }, 40)).toBeNull(); // 0.766 < the gateway's 0.8
    expect(await ask('minilm')).not.toBeNull();
  });

  it('skips the cache when it cannot read the key’s generation, so a purged answer never comes back', async () => {
    const store = new MemoryStore(1_000_000, { evicted: () => undefined });
    const { responseCache } = cache({ store });
    await answer(responseCache.forRequest('selectModel', 'alice', input('What is Rust?')), 'A language.');
    store.counter = async () => null;

    expect(await responseCache.forRequest('selectModel', 'alice', input('What is Rust?'))?.exact()).toBeNull();
  });

  it('keeps an answer no longer than the gateway’s time to live, whatever the request asks', async () => {
    let now = 0;
    const store = new MemoryStore(1_000_000, { evicted: () => undefined }, () => now);
    const { responseCache } = cache({ store, ttlSeconds: 60, now: () => now });
    await answer(responseCache.forRequest('selectModel', 'alice', input('a', { cache: { ttlSeconds: 3600 } })), 'x');

    now = 61_000;

    expect(await responseCache.forRequest('selectModel', 'alice', input('a'))?.exact()).toBeNull();
  });

  it('lets the guard refuse a close prompt whose numbers differ, and counts why', async () => {
    const { responseCache, counted } = cache();
    const first = responseCache.forRequest('selectModel', 'alice', input('What is 2+3?'));
    await first?.similar(embedded(at(0)));
    await answer(first, '5');

    const other = responseCache.forRequest('selectModel', 'alice', input('What is 2+4?'));

    expect(await other?.similar(embedded(at(1)))).toBeNull();
    expect(counted).toContain('guard numbers');
  });

  it('never matches across keys, system prompts or tools, nor outside semantic mode or selectModel', async () => {
    const { responseCache } = cache();
    const first = responseCache.forRequest('selectModel', 'alice', input('What is Rust?'));
    await first?.similar(embedded(at(0)));
    await answer(first, 'A language.');
    const lookup = (key: string, extra: object) =>
      responseCache.forRequest('selectModel', key, input('Tell me what Rust is', extra))?.similar(embedded(at(1)));

    expect(await lookup('bob', {})).toBeNull();
    expect(await lookup('alice', { temperature: 0.1 })).toBeNull();
    expect(
      await lookup('alice', {
        tools: [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }],
      }),
    ).toBeNull();
    expect(
      await responseCache
        .forRequest(
          'selectModel',
          'alice',
          selectModelInputSchema.parse({
            messages: [
              { role: 'system', content: 'Be brief.' },
              { role: 'user', content: 'Tell me what Rust is' },
            ],
          }),
        )
        ?.similar(embedded(at(1))),
    ).toBeNull();
    expect(responseCache.forRequest('generate', 'alice', { model: 'm', prompt: 'x' })?.wantsEmbedding).toBe(false);
    expect(cache({ mode: 'exact' }).responseCache.forRequest('selectModel', 'alice', input('x'))?.wantsEmbedding).toBe(
      false,
    );
  });

  it('forgets a key’s answers on purge, and shares them between keys only with scope gateway', async () => {
    const { responseCache } = cache({ scope: 'gateway' });
    await answer(responseCache.forRequest('selectModel', 'alice', input('What is Rust?')), 'A language.');

    expect(await responseCache.forRequest('selectModel', 'bob', input('What is Rust?'))?.exact()).not.toBeNull();
    await responseCache.purge('bob');
    expect(await responseCache.forRequest('selectModel', 'alice', input('What is Rust?'))?.exact()).toBeNull();
  });

  it('reads nothing in write-only mode, writes nothing in read-only mode, and is absent when off', async () => {
    const { responseCache } = cache();
    await answer(responseCache.forRequest('selectModel', 'alice', input('a', { cache: { mode: 'read-only' } })), 'x');
    expect(await responseCache.forRequest('selectModel', 'alice', input('a'))?.exact()).toBeNull();

    await answer(responseCache.forRequest('selectModel', 'alice', input('a', { cache: { mode: 'write-only' } })), 'x');
    expect(
      await responseCache.forRequest('selectModel', 'alice', input('a', { cache: { mode: 'write-only' } }))?.exact(),
    ).toBeNull();
    expect(await responseCache.forRequest('selectModel', 'alice', input('a'))?.exact()).not.toBeNull();

    expect(responseCache.forRequest('selectModel', 'alice', input('a', { cache: { mode: 'off' } }))).toBeNull();
    expect(cache({ mode: 'off' }).responseCache.forRequest('selectModel', 'alice', input('a'))).toBeNull();
  });
});
