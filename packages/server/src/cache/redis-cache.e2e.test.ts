import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReplayUpstream, type RunningGateway, startGateway, startReplayUpstream } from '../../test-utils/index.ts';
import { type RunningRedisServer, startRedisServer } from '../../test-utils/redis-server.ts';
import { auth, gatewayEnv, KEYS, RECORDING } from '../ledger/gateway.test-kit.ts';

let upstream: ReplayUpstream;
let redis: RunningRedisServer;
let one: RunningGateway;
let two: RunningGateway;
const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'tokenflow-cache-redis-')));
let prompts = 0;
const freshPrompt = () => `Tell me about shared cache test ${++prompts}.`;

beforeAll(async () => {
  upstream = await startReplayUpstream();
  redis = await startRedisServer();
  const env = { ...(await gatewayEnv(upstream.baseURL)), CACHE_MODE: 'exact', REDIS_URL: redis.url };
  const started = await Promise.all(dirs.map((dir) => startGateway({ ...env, TOKENFLOW_DATA_DIR: dir })));
  [one, two] = started as [RunningGateway, RunningGateway];
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
  await redis?.kill();
  await upstream?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A non-streamed /v1 completion: its status, text and cache header. */
async function complete(gateway: RunningGateway, content: string) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(KEYS.alice) },
    body: JSON.stringify({ model: `t/${RECORDING}`, messages: [{ role: 'user', content }] }),
  });
  const body = (await response.json()) as { choices?: Array<{ message: { content: string } }> };
  return {
    status: response.status,
    text: body.choices?.[0]?.message.content ?? '',
    cache: response.headers.get('x-tokenflow-cache'),
  };
}

/** Resolves once `check` holds (an answer is stored after its end event went out). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the response cache in Redis (REDIS_URL), shared by two gateways', () => {
  it('answers on one instance what the other stored, going upstream once', async () => {
    const prompt = freshPrompt();
    const before = upstream.requests.length;

    const first = await complete(one, prompt);
    // The store is written just after the first answer's end; give it that moment.
    await eventually(async () => (await complete(two, prompt)).cache !== null);
    const second = await complete(two, prompt);

    expect(first.cache).toBeNull();
    expect(second.cache).toMatch(/^hit; kind=exact/);
    expect(second.text).toBe(first.text);
    expect(upstream.requests.length - before).toBeLessThanOrEqual(2);
  });

  it('purges a key on every instance', async () => {
    const prompt = freshPrompt();
    await complete(one, prompt);
    await eventually(async () => (await complete(two, prompt)).cache !== null);

    const purge = await fetch(`${two.url}/api/cache`, { method: 'DELETE', headers: auth(KEYS.alice) });

    expect(purge.status).toBe(200);
    expect((await complete(one, prompt)).cache).toBeNull();
  });

  it('turns itself off while Redis is down, failing no request, and is back when Redis is', async () => {
    const prompt = freshPrompt();
    await complete(one, prompt);
    await eventually(async () => (await complete(one, prompt)).cache !== null);
    const port = redis.port;

    await redis.kill();
    const before = upstream.requests.length;
    const during = await Promise.all([complete(one, prompt), complete(two, prompt), complete(one, freshPrompt())]);
    const purge = await fetch(`${one.url}/api/cache`, { method: 'DELETE', headers: auth(KEYS.alice) });

    expect(during.map((answer) => [answer.status, answer.cache])).toEqual([
      [200, null],
      [200, null],
      [200, null],
    ]);
    expect(during.every((answer) => answer.text.length > 0)).toBe(true);
    expect(upstream.requests.length - before).toBe(3);
    expect(purge.status).toBe(503);
    const metrics = await (await fetch(`${one.url}/metrics`, { headers: auth(KEYS.alice) })).text();
    expect(metrics).toMatch(/tokenflow_cache_store_errors_total\{operation="read"\} [1-9]/);

    // An empty Redis on the same port: the cache works again once ioredis has reconnected.
    redis = await startRedisServer({ port });
    const again = freshPrompt();
    await eventually(async () => {
      await complete(one, again);
      return (await complete(one, again)).cache !== null;
    }, 5000);
  });
});
