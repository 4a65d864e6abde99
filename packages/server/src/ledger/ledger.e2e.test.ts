import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  hashApiKey,
  type ReplayUpstream,
  type RunningGateway,
  startGateway,
  startReplayUpstream,
} from '../../test-utils/index.ts';
import { loadConfig } from '../config.ts';
import {
  auth,
  COST,
  EXACT_PROMPT,
  gatewayEnv,
  generateBody,
  KEYS,
  RECORDED,
  RECORDING,
  rowsOf,
  streamRest,
  usageOf,
} from './gateway.test-kit.ts';

let upstream: ReplayUpstream;
let gateway: RunningGateway;
let env: Record<string, string>;
const dataDir = mkdtempSync(join(tmpdir(), 'tokenflow-ledger-e2e-'));

beforeAll(async () => {
  upstream = await startReplayUpstream();
  // A short grace: one test shuts the gateway down in the middle of a stream.
  env = { ...(await gatewayEnv(upstream.baseURL)), TOKENFLOW_DATA_DIR: dataDir, SHUTDOWN_GRACE_MS: '500' };
  gateway = await startGateway(env);
});
afterEach(() => upstream.use({}));
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the request log', () => {
  it('writes one row per request on every surface: REST, /v1 streamed and not, and the ML calls', async () => {
    await streamRest(gateway.url, '/api/generate', KEYS.alice, generateBody());
    await streamRest(gateway.url, '/api/models/select', KEYS.alice, { prompt: EXACT_PROMPT });
    const v1 = (stream: boolean) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth(KEYS.alice) },
        body: JSON.stringify({ model: `t/${RECORDING}`, messages: [{ role: 'user', content: 'hi' }], stream }),
      }).then((response) => response.text());
    await v1(true);
    await v1(false);
    await fetch(`${gateway.url}/api/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(KEYS.alice) },
      body: JSON.stringify({ prompt: 'hello' }),
    });

    const rows = await rowsOf(gateway.url, KEYS.alice);

    expect(rows.map((row) => `${row.surface} ${row.procedure} ${row.outcome}`).sort()).toEqual([
      'rest classify SERVICE_UNAVAILABLE',
      'rest generate OK',
      'rest selectModel OK',
      'v1 generate OK',
      'v1 generate OK',
    ]);
    const generated = rows.find((row) => row.procedure === 'generate' && row.surface === 'rest');
    expect(generated).toMatchObject({
      key: 'alice',
      provider: 't',
      model: RECORDING,
      promptTokens: String(RECORDED.usage?.promptTokens),
      completionTokens: String(RECORDED.usage?.completionTokens),
      tokensSource: 'provider',
      costSource: 'catalog',
      finishReason: RECORDED.finishReason ?? '',
      fallbacks: '[]',
    });
    expect(Number(generated?.costUsd)).toBeCloseTo(COST, 12);
    expect(Number(generated?.ttftMs)).toBeGreaterThan(0);
    expect(Number(generated?.totalMs)).toBeGreaterThanOrEqual(Number(generated?.ttftMs));
    const routed = rows.find((row) => row.procedure === 'selectModel');
    expect(routed).toMatchObject({ category: 'general', model: RECORDING });
    expect(routed?.routing).not.toBe('');
  });

  it('records a stream its caller cut with the tokens and cost it had consumed, estimated', async () => {
    upstream.use({ fixture: RECORDING, eventDelayMs: 20 });
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(KEYS.bob) },
      body: JSON.stringify(generateBody()),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    let seen = '';
    while (!seen.includes('event: text_chunk')) seen += new TextDecoder().decode((await reader?.read())?.value);
    const aborted = upstream.nextAbort();
    controller.abort();
    await aborted;

    let cut: Record<string, string> | undefined;
    for (let tries = 0; !cut && tries < 50; tries += 1) {
      cut = (await rowsOf(gateway.url, KEYS.bob)).find((row) => row.outcome === 'CLIENT_CLOSED_REQUEST');
      if (!cut) await new Promise((resolve) => setTimeout(resolve, 100));
    }

    expect(cut).toMatchObject({ procedure: 'generate', tokensSource: 'estimated', costSource: 'estimated' });
    expect(Number(cut?.promptTokens)).toBe(EXACT_PROMPT.length / 4);
    expect(Number(cut?.completionTokens)).toBeGreaterThan(0);
    expect(Number(cut?.completionTokens)).toBeLessThan(RECORDED.usage?.completionTokens ?? 0);
    expect(Number(cut?.costUsd)).toBeGreaterThan(0);
  });

  it('records a stream the provider failed with its error and nothing consumed', async () => {
    upstream.use({ fault: { kind: 'status', status: 500 } });

    const answer = await streamRest(gateway.url, '/api/generate', KEYS.bob, generateBody());
    const rows = await rowsOf(gateway.url, KEYS.bob);

    expect(answer.text).toContain('event: error');
    const failed = rows.find((row) => row.outcome !== 'OK' && row.outcome !== 'CLIENT_CLOSED_REQUEST');
    expect(failed).toMatchObject({ procedure: 'generate', promptTokens: '0', completionTokens: '0', ttftMs: '' });
    expect(failed?.outcome).toMatch(/^[A-Z_]+$/);
  });

  it('answers filters and groups: by model, by day, a time range, and only ever the caller’s own rows', async () => {
    await streamRest(gateway.url, '/api/generate', KEYS.alice, generateBody());
    const today = new Date().toISOString().slice(0, 10);
    const all = (await usageOf(gateway.url, KEYS.alice)).body;

    const byDayAndModel = (await usageOf(gateway.url, KEYS.alice, '?group_by=day,model&procedure=generate')).body;
    const future = (await usageOf(gateway.url, KEYS.alice, '?from=2999-01-01T00:00:00Z')).body;
    const fromToday = (await usageOf(gateway.url, KEYS.alice, `?from=${today}`)).body;
    const otherModel = (await usageOf(gateway.url, KEYS.alice, '?model=t/another-model')).body;
    const bob = (await usageOf(gateway.url, KEYS.bob)).body;

    expect(all.key).toBe('alice');
    expect(all.totals.requests).toBeGreaterThanOrEqual(6);
    expect(all.latency.ttftMs?.p50).toBeGreaterThan(0);
    expect(byDayAndModel.groups).toEqual([
      expect.objectContaining({ day: today, provider: 't', model: RECORDING, requests: expect.any(Number) }),
    ]);
    const [group] = byDayAndModel.groups;
    expect(group?.costUsd).toBeCloseTo((group?.requests ?? 0) * COST, 9);
    expect(future.totals.requests).toBe(0);
    expect(fromToday.totals.requests).toBe(all.totals.requests);
    expect(otherModel.totals.requests).toBe(0);
    expect(bob.totals.requests).toBeLessThan(all.totals.requests);
    expect((await rowsOf(gateway.url, KEYS.bob)).every((row) => row.key === 'bob')).toBe(true);
  });

  it('keeps its history across a restart, the rows of a request just before it included', async () => {
    const before = (await usageOf(gateway.url, KEYS.alice)).body.totals;
    // Still in the writer's buffer when the shutdown starts: the shutdown writes it.
    await streamRest(gateway.url, '/api/generate', KEYS.alice, generateBody());
    await gateway.close();

    gateway = await startGateway(env);
    const after = (await usageOf(gateway.url, KEYS.alice)).body.totals;

    expect(after.requests).toBe(before.requests + 1);
    expect(after.costUsd).toBeCloseTo(before.costUsd + COST, 12);
  });

  it('writes the row of a stream a shutdown cut, and gives back its budget hold', async () => {
    upstream.use({ fixture: RECORDING, eventDelayMs: 50 });
    const response = await fetch(`${gateway.url}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(KEYS.carol) },
      body: JSON.stringify(generateBody()),
    });
    const reader = response.body?.getReader();
    let seen = '';
    while (!seen.includes('event: text_chunk')) seen += new TextDecoder().decode((await reader?.read())?.value);

    await gateway.close();
    gateway = await startGateway(env);
    const rows = await rowsOf(gateway.url, KEYS.carol);
    const { budgets } = (await usageOf(gateway.url, KEYS.carol)).body;

    expect(rows).toEqual([expect.objectContaining({ outcome: 'SERVICE_UNAVAILABLE', tokensSource: 'estimated' })]);
    expect(budgets).toEqual([expect.objectContaining({ budget: 'usdPerMonth', reserved: 0 })]);
    expect(budgets[0]?.used).toBeGreaterThan(0);
  });
});

describe('bad usage queries', () => {
  it('refuses an unknown filter by its name', async () => {
    const { status, body } = await usageOf(gateway.url, KEYS.alice, '?colour=blue');
    expect(status).toBe(400);
    expect(body.message).toContain('"colour"');
  });

  it('refuses a time range that ends before it starts, naming `to`', async () => {
    const { status, body } = await usageOf(
      gateway.url,
      KEYS.alice,
      '?from=2026-12-08T00:00:00Z&to=2026-12-01T00:00:00Z',
    );
    expect(status).toBe(400);
    expect(body.message).toContain('to: must be later than from');
  });

  it('refuses an unknown group and a malformed time by field', async () => {
    const group = await usageOf(gateway.url, KEYS.alice, '?group_by=colour');
    const time = await usageOf(gateway.url, KEYS.alice, '?from=yesterday');
    expect(group.status).toBe(400);
    expect(group.body.message).toContain('groupBy.0');
    expect(time.status).toBe(400);
    expect(time.body.message).toContain('from: must be an ISO time such as 2026-12-07T09:30:00Z, or a day');
  });

  it('refuses to show another key’s usage', async () => {
    const { status, body } = await usageOf(gateway.url, KEYS.alice, '?key=bob');
    const csv = await fetch(`${gateway.url}/api/usage.csv?key=bob`, { headers: auth(KEYS.alice) });
    expect(status).toBe(403);
    expect(body.message).toContain('a key sees only its own usage');
    expect(csv.status).toBe(403);
  });

  it('refuses a key file whose budget is negative, naming the key and the field', () => {
    const file = join(dataDir, 'keys.json');
    writeFileSync(file, JSON.stringify([{ name: 'carol', hash: hashApiKey('k'), budgets: { usdPerDay: -1 } }]));
    expect(() => loadConfig({ TOKENFLOW_API_KEYS_FILE: file })).toThrow(
      /TOKENFLOW_API_KEYS_FILE\[0\.budgets\.usdPerDay\]/,
    );
  });

  it('refuses budgets when the ledger is off', () => {
    expect(() => loadConfig({ LEDGER: 'off', BUDGET_USD_PER_DAY: '5' })).toThrow(/LEDGER: is off, but budgets are set/);
  });
});
