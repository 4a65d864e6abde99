import { setTimeout as sleep } from 'node:timers/promises';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  closedPort,
  expectedFrom,
  type ReplayUpstream,
  type Scenario,
  startReplayUpstream,
} from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import { type ChatDelta, streamChat } from './chat-stream.ts';
import { UpstreamFailure } from './errors.ts';
import { createProviderRegistry, type ProviderRegistry } from './registry.ts';

// Retries, timeouts and the circuit breaker, against the replay upstream over real HTTP.
let upstream: ReplayUpstream;
beforeAll(async () => {
  upstream = await startReplayUpstream();
});
beforeEach(() => {
  upstream.requests.splice(0);
  upstream.use({});
});
afterAll(() => upstream.close());

const RECORDING = 'openrouter-stream-with-native-options';
const ok: Scenario = { fixture: RECORDING };

function registryWith(env: Record<string, string> = {}) {
  return createProviderRegistry(
    loadConfig({ TOKENFLOW_PROVIDER_T_BASE_URL: upstream.baseURL, UPSTREAM_RETRY_BASE_MS: '10', ...env }),
  );
}

/** Scenarios for the 1st, 2nd, ... request; the last one repeats. */
function inTurn(...scenarios: Scenario[]) {
  let count = 0;
  upstream.use(() => scenarios[Math.min(count++, scenarios.length - 1)] ?? ok);
}

interface Outcome {
  deltas: ChatDelta[];
  text: string;
  error: TRPCError | null;
  ms: number;
}

async function generate(
  registry: ProviderRegistry,
  { signal = new AbortController().signal, holdMs = 0 }: { signal?: AbortSignal; holdMs?: number } = {},
): Promise<Outcome> {
  const started = performance.now();
  const deltas: ChatDelta[] = [];
  let error: TRPCError | null = null;
  try {
    const stream = streamChat({
      target: registry.resolve({ model: 'm', provider: 't' }),
      body: { messages: [{ role: 'user', content: 'hi' }] },
      timeouts: { firstTokenMs: 5000, idleMs: 5000 },
      signal,
    });
    for await (const delta of stream) {
      deltas.push(delta);
      if (holdMs > 0) await sleep(holdMs);
    }
  } catch (caught) {
    if (!(caught instanceof TRPCError)) throw caught;
    error = caught;
  }
  const text = deltas.map((d) => (d.type === 'text' ? d.text : '')).join('');
  return { deltas, text, error, ms: performance.now() - started };
}

const upstreamDetails = (error: TRPCError | null) =>
  error?.cause instanceof UpstreamFailure ? error.cause.details : null;

describe('retries before the first token', () => {
  it('retries a 503 and then streams the whole answer', async () => {
    inTurn({ fault: { kind: 'status', status: 503 } }, ok);

    const outcome = await generate(registryWith());

    expect(outcome.error).toBeNull();
    expect(outcome.text).toBe(expectedFrom(RECORDING).content);
    expect(upstream.requests).toHaveLength(2);
  });

  it('retries a refused connection UPSTREAM_RETRY_ATTEMPTS times', async () => {
    const port = await closedPort();
    const refused = createProviderRegistry(
      loadConfig({ TOKENFLOW_PROVIDER_T_BASE_URL: `http://127.0.0.1:${port}/v1`, UPSTREAM_RETRY_BASE_MS: '10' }),
    );

    const outcome = await generate(refused);

    expect(outcome.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    // The breaker counts every attempt: the first and two retries.
    expect(refused.breakers().t?.failures).toBe(3);
  });

  it.each([
    [401, 'BAD_GATEWAY'],
    [400, 'BAD_REQUEST'],
  ])('does not retry HTTP %i', async (status, code) => {
    upstream.use({ fault: { kind: 'status', status } });

    const outcome = await generate(registryWith());

    expect(outcome.error).toMatchObject({ code });
    expect(upstream.requests).toHaveLength(1);
  });

  it('waits out a short Retry-After of a 429 and then answers', async () => {
    inTurn({ fault: { kind: 'status', status: 429, retryAfter: '1' } }, ok);

    const outcome = await generate(registryWith());

    expect(outcome.error).toBeNull();
    expect(outcome.text).toBe(expectedFrom(RECORDING).content);
    expect(upstream.requests).toHaveLength(2);
    expect(outcome.ms).toBeGreaterThanOrEqual(990);
  });

  it('answers a 429 whose Retry-After overruns the budget at once with TOO_MANY_REQUESTS and retryAfterMs', async () => {
    upstream.use({ fault: { kind: 'status', status: 429, retryAfter: '120' } });

    const outcome = await generate(registryWith());

    expect(outcome.error).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(upstreamDetails(outcome.error)).toMatchObject({ status: 429, retryAfterMs: 120_000 });
    expect(upstream.requests).toHaveLength(1);
    expect(outcome.ms).toBeLessThan(1000);
  });

  it('does not retry once a token was yielded: a reset mid-stream ends the stream with an error', async () => {
    upstream.use({ fixture: 'groq-thinking-part-iter-0', fault: { kind: 'reset', afterEvents: 10 } });

    const outcome = await generate(registryWith());

    expect(outcome.text.length).toBeGreaterThan(0);
    expect(outcome.error).toMatchObject({ code: 'BAD_GATEWAY', message: expect.stringMatching(/mid-stream/) });
    expect(upstream.requests).toHaveLength(1);
  });

  it('does not retry after the caller aborted during the backoff', async () => {
    upstream.use({ fault: { kind: 'status', status: 503 } });
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);

    const outcome = await generate(registryWith({ UPSTREAM_RETRY_BASE_MS: '2000' }), { signal: caller.signal });

    expect(outcome.error).toBeNull();
    expect(outcome.ms).toBeLessThan(1000);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('timeouts', () => {
  it('gives up on a provider that accepts the connection but never sends headers (UPSTREAM_CONNECT_TIMEOUT_MS)', async () => {
    upstream.use({ fault: { kind: 'stall', afterEvents: 0 } });

    const outcome = await generate(registryWith({ UPSTREAM_CONNECT_TIMEOUT_MS: '200' }));

    expect(outcome.error).toMatchObject({
      code: 'TIMEOUT',
      message: 'Provider "t" did not answer with response headers within 200 ms (UPSTREAM_CONNECT_TIMEOUT_MS).',
    });
    expect(outcome.ms).toBeLessThan(1500);
  });

  it('ends a slow stream after GENERATE_TOTAL_TIMEOUT_MS even though tokens keep coming', async () => {
    upstream.use({ fixture: 'openrouter-streaming-reasoning', eventDelayMs: 50 });

    const outcome = await generate(registryWith({ GENERATE_TOTAL_TIMEOUT_MS: '400' }));

    expect(outcome.deltas.length).toBeGreaterThan(0);
    expect(outcome.error).toMatchObject({
      code: 'TIMEOUT',
      message: 'The answer from provider "t" took longer than 400 ms in all (GENERATE_TOTAL_TIMEOUT_MS).',
    });
    expect(outcome.ms).toBeLessThan(1000);
  });

  it('counts the total time on the wall clock, also while a slow reader holds the stream', async () => {
    upstream.use({ fixture: 'openrouter-streaming-reasoning' });

    const outcome = await generate(registryWith({ GENERATE_TOTAL_TIMEOUT_MS: '300' }), { holdMs: 100 });

    expect(outcome.error).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/GENERATE_TOTAL_TIMEOUT_MS/),
    });
    // Nothing more is handed out once the time is up, not even chunks already received.
    expect(outcome.ms).toBeLessThan(600);
  });
});

describe('the circuit breaker of a provider', () => {
  const breakerEnv = {
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_COOLDOWN_MS: '300',
    UPSTREAM_RETRY_ATTEMPTS: '0',
  };

  it('opens after N failures, then fails fast without calling the upstream', async () => {
    const registry = registryWith(breakerEnv);
    upstream.use({ fault: { kind: 'status', status: 502 } });
    await generate(registry);
    await generate(registry);
    expect(upstream.requests).toHaveLength(2);

    const outcome = await generate(registry);

    expect(outcome.error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Provider "t" is failing (circuit open after 2 consecutive failures); retrying in 1 s.',
    });
    expect(upstreamDetails(outcome.error)?.retryAfterMs).toBeGreaterThan(0);
    expect(upstreamDetails(outcome.error)?.retryAfterMs).toBeLessThanOrEqual(300);
    expect(upstream.requests).toHaveLength(2);
    expect(registry.breakers().t).toMatchObject({ state: 'open', failures: 2 });
  });

  it('lets one trial request through after the cool-down and closes when it succeeds', async () => {
    const registry = registryWith(breakerEnv);
    upstream.use({ fault: { kind: 'status', status: 503 } });
    await generate(registry);
    await generate(registry);
    upstream.use(ok);

    await sleep(320);
    expect(registry.breakers().t).toEqual({ state: 'half-open', failures: 2, retryInMs: null });
    const trial = await generate(registry);

    expect(trial.error).toBeNull();
    expect(trial.text).toBe(expectedFrom(RECORDING).content);
    expect(upstream.requests).toHaveLength(3);
    expect(registry.breakers().t).toEqual({ state: 'closed', failures: 0, retryInMs: null });
  });

  it('opens again when the trial request fails', async () => {
    const registry = registryWith(breakerEnv);
    upstream.use({ fault: { kind: 'status', status: 503 } });
    await generate(registry);
    await generate(registry);

    await sleep(320);
    const trial = await generate(registry);

    expect(trial.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/HTTP 503/) });
    expect(registry.breakers().t).toMatchObject({ state: 'open', failures: 3 });
  });

  it('turns other requests away while the one trial request runs', async () => {
    const registry = registryWith({ ...breakerEnv, UPSTREAM_CONNECT_TIMEOUT_MS: '300' });
    upstream.use({ fault: { kind: 'status', status: 503 } });
    await generate(registry);
    await generate(registry);
    await sleep(320);
    upstream.use({ fault: { kind: 'stall', afterEvents: 0 } });

    const trial = generate(registry);
    await sleep(50);
    const other = await generate(registry);

    expect(other.error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Provider "t" is failing (circuit open after 2 consecutive failures); a trial request is under way.',
    });
    expect((await trial).error).toMatchObject({ code: 'TIMEOUT' });
    expect(upstream.requests).toHaveLength(3);
    expect(registry.breakers().t).toMatchObject({ state: 'open', failures: 3 });
  });

  it('counts a stream that broke after its first tokens', async () => {
    const registry = registryWith({ ...breakerEnv, BREAKER_FAILURE_THRESHOLD: '1' });
    upstream.use({ fixture: 'groq-thinking-part-iter-0', fault: { kind: 'reset', afterEvents: 10 } });

    const outcome = await generate(registry);

    expect(outcome.text.length).toBeGreaterThan(0);

    expect(registry.breakers().t).toMatchObject({ state: 'open', failures: 1 });
  });

  it('does not count failures caused by the request, rate limits or the caller leaving', async () => {
    const registry = registryWith({ ...breakerEnv, BREAKER_FAILURE_THRESHOLD: '1' });
    upstream.use({ fault: { kind: 'status', status: 400 } });
    await generate(registry);
    upstream.use({ fault: { kind: 'status', status: 429, retryAfter: '60' } });
    await generate(registry);
    upstream.use({ fixture: RECORDING, eventDelayMs: 50 });
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    await generate(registry, { signal: caller.signal });

    expect(registry.breakers().t).toEqual({ state: 'closed', failures: 0, retryInMs: null });
  });
});
