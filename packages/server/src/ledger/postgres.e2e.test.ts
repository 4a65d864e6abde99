import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ReplayUpstream,
  type RunningGateway,
  type RunningPostgresServer,
  startGateway,
  startPostgresServer,
  startReplayUpstream,
} from '../../test-utils/index.ts';
import {
  auth,
  COST,
  gatewayEnv,
  generateBody,
  KEYS,
  RECORDING,
  rowsOf,
  streamRest,
  usageOf,
} from './gateway.test-kit.ts';

// Ten requests fit the budget, whichever instance serves them.
const USD_PER_DAY = COST * 10.5;

let postgres: RunningPostgresServer;
let upstream: ReplayUpstream;
let first: RunningGateway;
let second: RunningGateway;

beforeAll(async () => {
  [postgres, upstream] = await Promise.all([startPostgresServer(), startReplayUpstream()]);
  const env = { ...(await gatewayEnv(upstream.baseURL, { usdPerDay: USD_PER_DAY })), DATABASE_URL: postgres.url };
  // Started one after the other: both run the migrations, the second finds them applied.
  first = await startGateway(env);
  second = await startGateway(env);
}, 60_000);
afterEach(() => upstream.use({}));
afterAll(async () => {
  await first?.close();
  await second?.close();
  await upstream?.close();
  await postgres?.stop();
});

describe('two gateway instances on one PostgreSQL', () => {
  it('report the same totals: each sees the requests the other served', async () => {
    await streamRest(first.url, '/api/generate', KEYS.bob, generateBody());
    await streamRest(second.url, '/api/generate', KEYS.bob, generateBody());
    await streamRest(second.url, '/api/generate', KEYS.bob, generateBody());

    // Each instance writes its rows within LEDGER_FLUSH_MS; its own usage query writes them at once.
    let fromFirst = (await usageOf(first.url, KEYS.bob)).body.totals;
    for (let tries = 0; fromFirst.requests < 3 && tries < 50; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      fromFirst = (await usageOf(first.url, KEYS.bob)).body.totals;
    }
    const fromSecond = (await usageOf(second.url, KEYS.bob)).body.totals;

    expect(fromFirst.requests).toBe(3);
    expect(fromSecond).toEqual(fromFirst);
    expect(fromFirst.costUsd).toBeCloseTo(3 * COST, 12);
  });

  it('share one budget: 200 concurrent requests spread over both spend no more than it', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        streamRest((i % 2 ? first : second).url, '/api/generate', KEYS.alice, generateBody()),
      ),
    );
    let budgets = (await usageOf(first.url, KEYS.alice)).body.budgets;
    for (let tries = 0; budgets.some((b) => b.reserved > 0) && tries < 50; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      budgets = (await usageOf(first.url, KEYS.alice)).body.budgets;
    }

    const others = answers.filter((answer) => answer.status !== 200 && answer.status !== 429);
    expect(others.map((answer) => `${answer.status} ${answer.text}`)).toEqual([]);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(10);
    expect(budgets[0]?.used).toBeLessThanOrEqual(USD_PER_DAY);
    expect(budgets[0]?.used).toBeCloseTo(10 * COST, 12);
    expect(budgets[0]?.reserved).toBe(0);
  });
});

describe('a database outage', () => {
  it('never touches a stream: it completes, and its row arrives once the database is back', async () => {
    upstream.use({ fixture: RECORDING, eventDelayMs: 5 });
    const before = (await rowsOf(first.url, KEYS.bob)).length;

    const answer = streamRest(first.url, '/api/generate', KEYS.bob, generateBody());
    let streaming = true;
    void answer.finally(() => {
      streaming = false;
    });
    await postgres.pause();
    const pausedMidStream = streaming;
    const { status, text } = await answer;
    const whileDown = await fetch(`${first.url}/api/usage`, { headers: auth(KEYS.bob) });
    await postgres.resume();
    let after = before;
    for (let tries = 0; after === before && tries < 100; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = (await rowsOf(first.url, KEYS.bob).catch(() => [])).length || before;
    }

    expect(pausedMidStream).toBe(true);
    expect(status).toBe(200);
    expect(text).toContain('event: end_stream');
    expect(whileDown.status).toBe(503);
    expect(after).toBe(before + 1);
  });
});
