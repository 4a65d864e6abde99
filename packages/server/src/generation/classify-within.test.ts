import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLASSIFY_RESPONSE } from '../ml/classify-response.fixture.ts';
import { createMlClient } from '../ml/client.ts';
import { classifyWithin } from './classify-within.ts';

const classification = CLASSIFY_RESPONSE;
interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}
const BUSY: Answer = { status: 503, body: { detail: 'the ML service is busy' }, headers: { 'retry-after': '1' } };
const OK: Answer = { status: 200, body: classification, headers: {} };

// A stand-in for the Python service that answers from a plan, and notes when each request came.
let server: Server;
let url: string;
let plan: Answer[] = [];
let arrivals: number[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    const { status, body, headers } = plan.shift() ?? OK;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => {
  plan = [];
  arrivals = [];
});
afterAll(() => {
  server.close();
});

const ml = () =>
  createMlClient({ baseUrl: url, timeoutMs: 5000, breaker: { failureThreshold: 1, cooldownMs: 30_000 } });
const input = { prompt: 'Write a parser.', multiLabel: false };
const run = (client: ReturnType<typeof ml>, timeoutMs: number, random = () => 0.5) =>
  classifyWithin(client, input, { requestId: 'r1', signal: new AbortController().signal, timeoutMs, random });

describe("selectModel's classification against a busy ML service", () => {
  it('asks again after a short pause while the service sheds load, and gets the answer', async () => {
    plan = [BUSY, BUSY, OK];

    const result = await run(ml(), 1000);

    expect(result.topCategory).toBe('code');
    expect(arrivals).toHaveLength(3);
  });

  it('spreads its retries: each pause is random, up to a bound that doubles', async () => {
    const pausesWith = async (random: () => number) => {
      plan = [BUSY, BUSY, BUSY, OK];
      arrivals = [];
      await run(ml(), 2000, random);
      return arrivals.slice(1).map((at, i) => at - (arrivals[i] ?? 0));
    };

    const longest = await pausesWith(() => 0.999);
    const shortest = await pausesWith(() => 0);

    // Bounds of 10, 20 and 40 ms: drawn at their top, then at nothing.
    expect(longest[0]).toBeGreaterThanOrEqual(9);
    expect(longest[1]).toBeGreaterThanOrEqual(19);
    expect(longest[2]).toBeGreaterThanOrEqual(39);
    expect(Math.max(...shortest)).toBeLessThan(longest[2] ?? 0);
  });

  it('tries at most three times more, then answers with the refusal; the breaker stays closed', async () => {
    plan = Array.from({ length: 100 }, () => BUSY);
    const client = ml();

    const error = await run(client, 5000, () => 0).catch((caught: unknown) => caught);

    expect(arrivals).toHaveLength(4);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/busy/) });
    expect(client.breaker()).toEqual({ state: 'closed', failures: 0, retryInMs: null });
  });

  it('stops by the routing deadline', async () => {
    plan = Array.from({ length: 100 }, () => BUSY);

    const started = performance.now();
    const error = await run(ml(), 40, () => 0.999).catch((caught: unknown) => caught);
    const took = performance.now() - started;
    // A request cut off by the deadline may still reach the server: let it, before the next test.
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Pauses of 10 and 20 ms fit in 40 ms, the next of 40 would not (slack for a busy machine).
    expect(took).toBeLessThan(40 + 60);
    expect(arrivals.length).toBeLessThan(4);
    // The last refusal, or, on a slow machine, the deadline passing during an attempt.
    expect(['SERVICE_UNAVAILABLE', 'TIMEOUT']).toContain((error as { code?: string }).code);
  });

  it('does not retry a service that is loading its model (Retry-After of 5 s)', async () => {
    plan = [{ ...BUSY, headers: { 'retry-after': '5' } }];

    await expect(run(ml(), 1000)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    expect(arrivals).toHaveLength(1);
  });

  it('does not retry other failures', async () => {
    plan = [{ status: 500, body: { detail: 'boom' }, headers: {} }];

    await expect(run(ml(), 1000)).rejects.toMatchObject({ code: 'BAD_GATEWAY' });

    expect(arrivals).toHaveLength(1);
  });
});
