import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ReplayUpstream, type RunningGateway, startGateway, startReplayUpstream } from '../../test-utils/index.ts';
import { auth, COST, gatewayEnv, generateBody, KEYS, streamRest, usageOf } from '../ledger/gateway.test-kit.ts';

// Ten requests fit (each holds exactly what it then costs), the eleventh does not.
const USD_PER_DAY = COST * 10.5;

let upstream: ReplayUpstream;
let gateway: RunningGateway;

beforeAll(async () => {
  upstream = await startReplayUpstream();
  gateway = await startGateway(await gatewayEnv(upstream.baseURL, { usdPerDay: USD_PER_DAY }));
});
afterEach(() => upstream.use({}));
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

/** Polls alice's budgets until no request holds anything (settling runs after each stream). */
async function settledBudgets() {
  for (let tries = 0; ; tries += 1) {
    const { budgets } = (await usageOf(gateway.url, KEYS.alice)).body;
    if (budgets.every((budget) => budget.reserved === 0) || tries > 50) return budgets;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('budgets', () => {
  it('refuses, before routing, a request that can never fit the budget, naming it', async () => {
    const answer = await streamRest(gateway.url, '/api/generate', KEYS.alice, generateBody({ maxTokens: 1_000_000 }));

    expect(answer.status).toBe(412);
    expect(JSON.parse(answer.text)).toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('more than the whole usdPerDay budget of key "alice"'),
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('lets 200 concurrent requests spend no more than the budget, refuses the rest, and alerts at 80%', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => streamRest(gateway.url, '/api/generate', KEYS.alice, generateBody())),
    );
    const budgets = await settledBudgets();

    const served = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(served).toHaveLength(10);
    expect(refused).toHaveLength(190);
    expect(served.every((answer) => answer.text.includes('event: end_stream'))).toBe(true);
    // The day is read before and after the run: a run across UTC midnight is told so, not flaky.
    const tomorrow = new Date(
      Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1),
    );
    // Refused while the served ones still held the budget: retry in a second.
    for (const answer of refused) {
      expect(JSON.parse(answer.text)).toMatchObject({
        code: 'TOO_MANY_REQUESTS',
        message: expect.stringContaining(`The usdPerDay budget of key "alice"`),
        retryAfterMs: expect.any(Number),
      });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Once they spent it: until tomorrow.
    const spent = await streamRest(gateway.url, '/api/generate', KEYS.alice, generateBody());
    expect(spent.status).toBe(429);
    expect(spent.text).toContain(`It resets at ${tomorrow.toISOString()}`);
    expect(budgets).toEqual([
      {
        budget: 'usdPerDay',
        limit: USD_PER_DAY,
        used: expect.any(Number),
        reserved: 0,
        resetsAt: tomorrow.toISOString(),
      },
    ]);
    expect(budgets[0]?.used).toBeLessThanOrEqual(USD_PER_DAY);
    expect(budgets[0]?.used).toBeCloseTo(10 * COST, 12);
    const metrics = await fetch(`${gateway.url}/metrics`, { headers: auth(KEYS.alice) }).then((r) => r.text());
    expect(metrics).toMatch(/tokenflow_budget_alerts_total\{key="alice",budget="usdPerDay",threshold="0.8"\} 1/);
    // 10 of 10.5 requests' worth is spent: past 80%, not at 100%.
    expect(metrics).not.toMatch(/tokenflow_budget_alerts_total\{key="alice",budget="usdPerDay",threshold="1"\}/);
    const refusals = /tokenflow_budget_refusals_total\{key="alice",budget="usdPerDay"\} (\d+)/.exec(metrics)?.[1];
    // 191 here, and one more if the can-never-fit test ran first.
    expect(Number(refusals)).toBeGreaterThanOrEqual(191);
  });

  it('sends the provider the maxTokens it held when a budgeted request sets none', async () => {
    const { maxTokens: _, ...unbounded } = generateBody();
    upstream.requests.length = 0;

    await streamRest(gateway.url, '/api/generate', KEYS.carol, unbounded);
    await streamRest(gateway.url, '/api/generate', KEYS.bob, unbounded);

    // carol has a budget: ROUTING_DEFAULT_MAX_TOKENS is what she held; bob has none: nothing is added.
    expect(upstream.requests.map((request) => request.body.max_tokens)).toEqual([1024, undefined]);
  });

  it('leaves a key without budgets alone', async () => {
    const answer = await streamRest(gateway.url, '/api/generate', KEYS.bob, generateBody());
    const { budgets } = (await usageOf(gateway.url, KEYS.bob)).body;

    expect(answer.status).toBe(200);
    expect(budgets).toEqual([]);
  });
});
