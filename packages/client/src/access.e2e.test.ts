import { Writable } from 'node:stream';
import { createLogger } from '@tokenflow/server';
import {
  hashApiKey,
  type ReplayUpstream,
  type RunningGateway,
  startGateway,
  startRedisServer,
} from '@tokenflow/server/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  createTokenFlowClient,
  streamGenerate,
  type TokenFlowClient,
  type TokenFlowError,
  TRPCClientError,
} from './index.ts';
import { type Stack, startStack } from './test/stack.ts';

// Keys made with `npm run keys -- new <name>`; only their hashes go into the gateway's configuration.
const ALICE = 'tf_alice-key-0000000000000000000000000000000000000';
const BOB = 'tf_bob-key-00000000000000000000000000000000000000000';
const GROQ_KEY = 'gsk_planted_provider_key_1234567890';

let stack: Stack;
let upstream: ReplayUpstream;
let gateway: RunningGateway;
const logs: string[] = [];
const clients: TokenFlowClient[] = [];

function client(apiKey?: string) {
  const made = createTokenFlowClient({ url: gateway.url, WebSocket, ...(apiKey ? { apiKey } : {}) });
  clients.push(made);
  return made;
}

async function failure(run: () => Promise<unknown>): Promise<TokenFlowError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TokenFlowError;
    throw error;
  }
  throw new Error('expected the call to fail');
}

async function drain(c: TokenFlowClient, model = 'groq/openrouter-stream-with-native-options') {
  const types: string[] = [];
  for await (const event of streamGenerate(c, { prompt: 'hi', model })) types.push(event.type);
  return types;
}

beforeAll(async () => {
  const keys = [
    { name: 'alice', hash: hashApiKey(ALICE), limits: { requestsPerMinute: 1000, maxConnections: 2 } },
    { name: 'bob', hash: hashApiKey(BOB), limits: { requestsPerMinute: 3, concurrentStreams: 1 } },
  ];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  // No ML service (the stack has none): classify fails after admission.
  stack = await startStack(
    { GROQ_API_KEY: GROQ_KEY, TOKENFLOW_API_KEYS: JSON.stringify(keys), WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' },
    { logger: createLogger('debug', sink) },
  );
  ({ upstream, gateway } = stack);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  upstream.use({});
});
afterAll(async () => {
  await stack?.close();
});

describe('API keys', () => {
  it('answers UNAUTHORIZED over HTTP when the key is missing or wrong, before any work', async () => {
    const missing = await failure(() => client().trpc.health.query());
    expect(missing.data?.code).toBe('UNAUTHORIZED');
    expect(missing.message).toMatch(/An API key is required: send it as "Authorization: Bearer <key>"/);
    const wrong = await failure(() => client('tf_wrong-key-planted-0000000000').trpc.health.query());
    expect([wrong.data?.code, wrong.data?.httpStatus, wrong.message]).toEqual([
      'UNAUTHORIZED',
      401,
      'The API key is not valid.',
    ]);
  });

  it('serves a valid key over HTTP and over the WebSocket (connection params)', async () => {
    expect((await client(ALICE).trpc.health.query()).status).toBe('ok');
    expect((await drain(client(ALICE))).at(-1)).toBe('end');
  });

  it('closes a WebSocket that brings no key with 4401 and the reason', async () => {
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/trpc`);
    const closed = await new Promise<[number, string]>((resolve) =>
      socket.once('close', (code, reason) => resolve([code, String(reason)])),
    );
    expect(closed[0]).toBe(4401);
    expect(closed[1]).toMatch(/^An API key is required/);
  });

  it('ends a stream from a client without a key with UNAUTHORIZED rather than retrying for ever', async () => {
    const error = await failure(() => drain(client()));
    expect(error.data?.code).toBe('UNAUTHORIZED');
  });

  it('accepts a WebSocket that sends the key as a bearer header', async () => {
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/trpc`, {
      headers: { authorization: `Bearer ${ALICE}` },
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('unexpected-response', reject);
    });
    socket.close();
  });

  it('closes a WebSocket whose connection params hold a wrong key, saying why (4401)', async () => {
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/trpc?connectionParams=1`);
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<[number, string]>((resolve) =>
      socket.once('close', (code, reason) => resolve([code, String(reason)])),
    );
    socket.send(JSON.stringify({ method: 'connectionParams', data: { apiKey: 'tf_wrong-key-planted-0000000000' } }));
    expect(await closed).toEqual([4401, 'The API key is not valid.']);
  });

  it('streams nothing upstream for a wrong key over WebSocket', async () => {
    const before = upstream.requests.length;
    const error = await failure(() => drain(client('tf_wrong-key-planted-0000000000')));
    expect([error.data?.code, error.message]).toEqual(['UNAUTHORIZED', 'The API key is not valid.']);
    expect(upstream.requests.length).toBe(before);
  });

  it('answers 401 on the REST API without a key, and keeps /healthz open for probes', async () => {
    const rest = await fetch(`${gateway.url}/api/model-rankings`);
    expect(rest.status).toBe(401);
    expect(rest.headers.get('www-authenticate')).toBe('Bearer');
    expect(await rest.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    const ok = await fetch(`${gateway.url}/api/model-rankings`, { headers: { authorization: `Bearer ${ALICE}` } });
    expect(ok.status).toBe(200);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  });
});

describe('limits per key', () => {
  it("refuses requests over the key's rate with TOO_MANY_REQUESTS and when to retry", async () => {
    const bob = client(BOB);
    for (let i = 0; i < 3; i += 1) await bob.trpc.modelRankings.query().catch(() => undefined);
    // modelRankings is not rate limited; classify is (and fails without an ML service, after admission).
    const outcomes = [];
    for (let i = 0; i < 4; i += 1) outcomes.push(await failure(() => bob.trpc.classify.mutate({ prompt: 'hi' })));
    const limited = outcomes.filter((e) => e.data?.code === 'TOO_MANY_REQUESTS');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0]?.message).toMatch(/API key "bob" is over its limit of 3 requests per minute/);
    expect(limited[0]?.data?.retryAfterMs).toBeGreaterThan(0);
    expect(limited[0]?.data?.httpStatus).toBe(429);
  });

  it('allows one stream at a time to a key limited to one concurrent stream', async () => {
    const fresh = await startGateway({
      GROQ_API_KEY: GROQ_KEY,
      GROQ_API_BASE_URL: upstream.baseURL,
      TOKENFLOW_API_KEYS: JSON.stringify([{ name: 'bob', hash: hashApiKey(BOB), limits: { concurrentStreams: 1 } }]),
    });
    try {
      upstream.use({ eventDelayMs: 20 });
      const bob = createTokenFlowClient({ url: fresh.url, apiKey: BOB, WebSocket });
      clients.push(bob);
      const first = drain(bob);
      await expect.poll(() => fresh.gateway.lifecycle.activeStreams).toBe(1);
      const second = await failure(() => drain(bob));
      expect(second.data?.code).toBe('TOO_MANY_REQUESTS');
      expect(second.message).toMatch(/1 concurrent stream/);
      expect((await first).at(-1)).toBe('end');
      // The slot is free again once the first stream ended.
      expect((await drain(bob)).at(-1)).toBe('end');
    } finally {
      await fresh.close();
    }
  });

  it('caps the streams on one WebSocket (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION)', async () => {
    upstream.use({ eventDelayMs: 20 });
    const alice = client(ALICE);
    const results = await Promise.allSettled([drain(alice), drain(alice), drain(alice)]);
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(refused).toHaveLength(1);
    const reason = refused[0]?.reason as TokenFlowError | undefined;
    expect(reason?.data?.code).toBe('TOO_MANY_REQUESTS');
    expect(reason?.message).toMatch(/WS_MAX_SUBSCRIPTIONS_PER_CONNECTION/);
  });

  it('caps the open WebSockets per key (maxConnections), closing the extra one with 4429', async () => {
    const open = async () => {
      const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/trpc`, {
        headers: { authorization: `Bearer ${ALICE}` },
      });
      await new Promise((resolve) => socket.once('open', resolve));
      // The context (and so the count) is made on the first message.
      socket.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'health', input: { json: null } } }));
      return socket;
    };
    const first = await open();
    const second = await open();
    const third = await open();
    const closed = await new Promise<number>((resolve) => third.once('close', resolve));
    expect(closed).toBe(4429);
    first.close();
    second.close();
  });
});

describe('limits shared through Redis (REDIS_URL)', () => {
  it("counts a key's requests across two gateway instances", async () => {
    const redis = await startRedisServer();
    const keys = JSON.stringify([{ name: 'bob', hash: hashApiKey(BOB), limits: { requestsPerMinute: 2 } }]);
    const env = { GROQ_API_KEY: GROQ_KEY, GROQ_API_BASE_URL: upstream.baseURL, TOKENFLOW_API_KEYS: keys };
    const first = await startGateway({ ...env, REDIS_URL: redis.url });
    const second = await startGateway({ ...env, REDIS_URL: redis.url });
    const onFirst = createTokenFlowClient({ url: first.url, apiKey: BOB, WebSocket });
    const onSecond = createTokenFlowClient({ url: second.url, apiKey: BOB, WebSocket });
    clients.push(onFirst, onSecond);
    try {
      expect((await drain(onFirst)).at(-1)).toBe('end');
      expect((await drain(onSecond)).at(-1)).toBe('end');
      const third = await failure(() => drain(onFirst));
      expect(third.data?.code).toBe('TOO_MANY_REQUESTS');
      expect(third.message).toMatch(/API key "bob" is over its limit of 2 requests per minute/);

      // Without its store the gateway cannot count, so it refuses rather than let everything through.
      await redis.stop();
      const down = await failure(() => drain(onSecond));
      expect([down.data?.code, down.message]).toEqual([
        'SERVICE_UNAVAILABLE',
        'The rate-limit store (REDIS_URL) is not reachable; retry shortly.',
      ]);
    } finally {
      await first.close();
      await second.close();
      await redis.stop();
    }
  });
});

describe('secrets', () => {
  it('never writes an API key or a provider key to the logs', async () => {
    await drain(client(ALICE));
    await failure(() => client('tf_wrong-key-planted-0000000000').trpc.health.query());
    await fetch(`${gateway.url}/api/model-rankings`, { headers: { authorization: `Bearer ${ALICE}` } });
    const all = logs.join('');
    expect(all).toContain('generate finished');
    for (const secret of [ALICE, BOB, GROQ_KEY, 'tf_wrong-key-planted']) expect(all).not.toContain(secret);
  });
});
