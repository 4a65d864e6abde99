import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ReplayUpstream, type RunningGateway, startGateway, startReplayUpstream } from '../../test-utils/index.ts';
import {
  auth,
  COST,
  gatewayEnv,
  KEYS,
  RECORDED,
  RECORDING,
  rowsOf,
  streamRest,
  usageOf,
} from '../ledger/gateway.test-kit.ts';

let upstream: ReplayUpstream;
let gateway: RunningGateway;
const dataDir = mkdtempSync(join(tmpdir(), 'tokenflow-cache-e2e-'));
let prompts = 0;
/** A prompt no earlier test sent, so each test starts with nothing stored for it. */
const freshPrompt = () => `Say something about cache test number ${++prompts}.`;

beforeAll(async () => {
  upstream = await startReplayUpstream();
  gateway = await startGateway({
    ...(await gatewayEnv(upstream.baseURL)),
    TOKENFLOW_DATA_DIR: dataDir,
    CACHE_MODE: 'exact',
    LEDGER_FLUSH_MS: '20',
  });
});
afterEach(() => upstream.use({}));
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });

/** A streamed /v1 completion with the openai SDK: its text, the `tokenflow` fields of its chunks, and the headers. */
async function streamV1(key: string, content: string, extra: object = {}, headers: Record<string, string> = {}) {
  const { data: stream, response } = await openai(key)
    .chat.completions.create(
      { model: `t/${RECORDING}`, messages: [{ role: 'user', content }], stream: true, ...extra },
      { headers },
    )
    .withResponse();
  let text = '';
  const tokenflow: Array<Record<string, unknown>> = [];
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    const extension = (chunk as unknown as { tokenflow?: Record<string, unknown> }).tokenflow;
    if (extension) tokenflow.push(extension);
  }
  return { text, tokenflow, headers: response.headers };
}

const upstreamCalls = () => upstream.requests.length;

const chunk = (delta: object, finishReason: string | null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: RECORDING, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
/** An answer the provider cut at max_tokens (finish_reason "length"). */
const cutOffByLength = `${chunk({ role: 'assistant', content: 'Hello' }, null)}${chunk({ content: ' there' }, null)}${chunk({}, 'length')}data: [DONE]\n\n`;

describe('the response cache (CACHE_MODE=exact, in memory)', () => {
  it('sends two identical streamed /v1 requests upstream once, and both clients get the same answer', async () => {
    const prompt = freshPrompt();
    const before = upstreamCalls();

    const first = await streamV1(KEYS.alice, prompt);
    const second = await streamV1(KEYS.alice, prompt);

    expect(upstreamCalls() - before).toBe(1);
    expect(first.text.length).toBeGreaterThan(100);
    expect(second.text).toBe(first.text);
    expect(first.headers.get('x-tokenflow-cache')).toBeNull();
    expect(second.headers.get('x-tokenflow-cache')).toBe('hit; kind=exact; similarity=1.0000');
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
    const end = second.tokenflow.at(-1) as { cache: { hit: string; similarity: number }; usage: unknown };
    expect(end.cache).toMatchObject({ hit: 'exact', similarity: 1 });
    // The original usage, as the issue asks: what the answer took to make.
    expect(end.usage).toMatchObject({ promptTokens: RECORDED.usage?.promptTokens });
  });

  it('replays reasoning, text and the end as the same events over REST, with the cache on metadata and end', async () => {
    const body = { provider: 't', model: RECORDING, prompt: freshPrompt() };
    const first = await streamRest(gateway.url, '/api/generate', KEYS.alice, body);
    const second = await streamRest(gateway.url, '/api/generate', KEYS.alice, body);

    const payloads = (text: string, event: string) =>
      text
        .split('\n\n')
        .filter((block) => block.includes(`event: ${event}\n`))
        .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as Record<string, unknown>);
    const joined = (text: string, event: string) =>
      payloads(text, event)
        .map((p) => p.text)
        .join('');
    expect(joined(second.text, 'text_chunk')).toBe(joined(first.text, 'text_chunk'));
    expect(joined(second.text, 'reasoning_chunk')).toBe(joined(first.text, 'reasoning_chunk'));
    expect(payloads(second.text, 'metadata')[0]?.cache).toMatchObject({ hit: 'exact' });
    const [end] = payloads(second.text, 'end_stream');
    const [original] = payloads(first.text, 'end_stream');
    expect(end).toMatchObject({ finishReason: original?.finishReason, usage: original?.usage });
    expect(end?.cache).toMatchObject({ hit: 'exact', similarity: 1 });
  });

  it('keeps each key to its own answers', async () => {
    const prompt = freshPrompt();
    const before = upstreamCalls();

    await streamV1(KEYS.alice, prompt);
    const bobs = await streamV1(KEYS.bob, prompt);

    expect(upstreamCalls() - before).toBe(2);
    expect(bobs.headers.get('x-tokenflow-cache')).toBeNull();
  });

  it('logs a hit as costing nothing, with what it saved, in the usage report and the CSV', async () => {
    const prompt = freshPrompt();
    await streamV1(KEYS.carol, prompt);
    await streamV1(KEYS.carol, prompt);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const rows = await rowsOf(gateway.url, KEYS.carol);
    const hit = rows.find((row) => row.cache === 'exact');
    expect(hit).toMatchObject({ costUsd: '0', promptTokens: '0', completionTokens: '0', outcome: 'OK' });
    expect(Number(hit?.cacheSavedUsd)).toBeCloseTo(COST, 12);
    const { body } = await usageOf(gateway.url, KEYS.carol, '?group_by=cache');
    expect(body.totals.cacheHits).toBe(1);
    expect(body.totals.cacheSavedUsd).toBeCloseTo(COST, 12);
    expect(body.groups.map((g) => [g.cache, g.requests])).toEqual(expect.arrayContaining([['exact', 1]]));
  });

  it('obeys the request: tokenflow.cache modes and Cache-Control no-cache / no-store', async () => {
    const prompt = freshPrompt();
    const calls = async (run: () => Promise<unknown>) => {
      const before = upstreamCalls();
      await run();
      return upstreamCalls() - before;
    };
    // read-only stores nothing, so a second read-only request misses too.
    expect(await calls(() => streamV1(KEYS.alice, prompt, { tokenflow: { cache: { mode: 'read-only' } } }))).toBe(1);
    // no-store: asked upstream, nothing stored.
    expect(await calls(() => streamV1(KEYS.alice, prompt, {}, { 'cache-control': 'no-store' }))).toBe(1);
    expect(await calls(() => streamV1(KEYS.alice, prompt, { tokenflow: { cache: { mode: 'read-only' } } }))).toBe(1);
    // write-only always asks, and stores.
    expect(await calls(() => streamV1(KEYS.alice, prompt, { tokenflow: { cache: { mode: 'write-only' } } }))).toBe(1);
    expect(await calls(() => streamV1(KEYS.alice, prompt))).toBe(0);
    // no-cache: never answered from the cache; off: neither reads nor writes.
    expect(await calls(() => streamV1(KEYS.alice, prompt, {}, { 'cache-control': 'no-cache' }))).toBe(1);
    expect(await calls(() => streamV1(KEYS.alice, prompt, { tokenflow: { cache: { mode: 'off' } } }))).toBe(1);
  });

  it('honours a per-request time to live', async () => {
    const prompt = freshPrompt();
    await streamV1(KEYS.alice, prompt, { tokenflow: { cache: { ttlSeconds: 1 } } });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = upstreamCalls();

    const again = await streamV1(KEYS.alice, prompt);

    expect(upstreamCalls() - before).toBe(1);
    expect(again.headers.get('x-tokenflow-cache')).toBeNull();
  });

  it('stores only whole answers: not a failed or cut stream, and not a length cut-off unless asked', async () => {
    const prompt = freshPrompt();
    upstream.use({ fixture: RECORDING, fault: { kind: 'truncate', afterEvents: 3 } });
    await streamV1(KEYS.alice, prompt).catch(() => undefined);
    upstream.use({ fault: { kind: 'status', status: 500 } });
    await streamV1(KEYS.alice, prompt).catch(() => undefined);
    upstream.use({ body: cutOffByLength });
    await streamV1(KEYS.alice, prompt);
    upstream.use({});
    const before = upstreamCalls();

    await streamV1(KEYS.alice, prompt);

    expect(upstreamCalls() - before).toBe(1);
    // Asked for: a cut-off answer is stored, and replayed with its finish reason.
    const other = freshPrompt();
    upstream.use({ body: cutOffByLength });
    const accepting = { tokenflow: { cache: { acceptTruncated: true } } };
    await streamV1(KEYS.alice, other, accepting);
    upstream.use({});
    const replayed = await streamV1(KEYS.alice, other, accepting);
    expect(replayed.text).toBe('Hello there');
    expect(replayed.headers.get('x-tokenflow-cache')).toMatch(/^hit/);
    // A request that did not ask for truncated answers is not served one.
    const plain = await streamV1(KEYS.alice, other);
    expect(plain.headers.get('x-tokenflow-cache')).toBeNull();
  });

  it('forgets a key’s answers when it purges them (DELETE /api/cache), and only that key’s', async () => {
    const prompt = freshPrompt();
    await streamV1(KEYS.alice, prompt);
    await streamV1(KEYS.bob, prompt);

    const purge = await fetch(`${gateway.url}/api/cache`, { method: 'DELETE', headers: auth(KEYS.alice) });
    expect(purge.status).toBe(200);
    expect(await purge.json()).toEqual({ purged: true, scope: 'key' });
    const before = upstreamCalls();
    await streamV1(KEYS.alice, prompt);
    const bobs = await streamV1(KEYS.bob, prompt);

    expect(upstreamCalls() - before).toBe(1);
    expect(bobs.headers.get('x-tokenflow-cache')).toMatch(/^hit/);
  });

  it.each([
    [{ ttlSeconds: -1 }, /cache\.ttlSeconds: Too small/],
    [{ mode: 'sometimes' }, /cache\.mode: Invalid option/],
    [{ threshold: 1.5 }, /cache\.threshold: Too big/],
    [{ colour: 'red' }, /cache: Unrecognized key: \\?"colour/],
  ])('refuses bad cache controls %j with a 400 naming the field', async (cache, message) => {
    const v1 = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(KEYS.alice) },
      body: JSON.stringify({
        model: `t/${RECORDING}`,
        messages: [{ role: 'user', content: 'hi' }],
        tokenflow: { cache },
      }),
    });
    const rest = await streamRest(gateway.url, '/api/generate', KEYS.alice, {
      provider: 't',
      model: RECORDING,
      prompt: 'hi',
      cache,
    });

    expect(v1.status).toBe(400);
    expect(((await v1.json()) as { error: { message: string } }).error.message).toMatch(message);
    expect(rest.status).toBe(400);
    expect(rest.text).toMatch(message);
  });

  it('counts hits and misses by kind and the bytes stored in /metrics', async () => {
    const prompt = freshPrompt();
    await streamV1(KEYS.alice, prompt);
    await streamV1(KEYS.alice, prompt);

    const metrics = await (await fetch(`${gateway.url}/metrics`, { headers: auth(KEYS.alice) })).text();

    expect(metrics).toMatch(/tokenflow_cache_lookups_total\{kind="exact",result="hit"\} [1-9]/);
    expect(metrics).toMatch(/tokenflow_cache_lookups_total\{kind="exact",result="miss"\} [1-9]/);
    expect(metrics).toMatch(/tokenflow_cache_bytes [1-9]/);
    expect(metrics).toMatch(/tokenflow_cache_stored_total [1-9]/);
  });
});
