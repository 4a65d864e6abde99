import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerBackends, requestRow } from '../../test-utils/ledger-backends.ts';
import { createLedger, type Ledger } from './index.ts';
import { exportUsageRows } from './queries.ts';
import type { RequestRow } from './request-row.ts';
import { type UsageQueryInput, usageExportSchema, usageQuerySchema } from './usage-query.ts';

const at = (iso: string) => Date.parse(iso);
const DAY1 = '2026-03-01';
const DAY2 = '2026-03-02';

// Alice's requests over two days: two answered by one model, one unpriced, one failed before any model
// answered, one by a model whose name holds a slash, and a classify call.
const alice: RequestRow[] = [
  requestRow({ ts: at(`${DAY1}T10:00:00Z`), category: 'code', routing: 'classified', ttftMs: 100, totalMs: 1000 }),
  requestRow({
    ts: at(`${DAY1}T11:00:00Z`),
    category: 'code',
    routing: 'classified',
    promptTokens: 200,
    completionTokens: 40,
    costUsd: 0.003,
    ttftMs: 300,
    totalMs: 3000,
  }),
  requestRow({
    ts: at(`${DAY1}T12:00:00Z`),
    provider: 'anthropic',
    model: 'claude-3-haiku',
    category: 'chat',
    routing: 'default',
    promptTokens: 50,
    completionTokens: 10,
    costUsd: null,
    costSource: null,
    ttftMs: 200,
    totalMs: 2000,
  }),
  requestRow({
    ts: at(`${DAY2}T09:00:00Z`),
    model: null,
    fallbacks: [{ provider: 'openai', model: 'gpt-4o', code: 'RATE_LIMITED' }],
    promptTokens: 30,
    completionTokens: 0,
    tokensSource: 'estimated',
    costUsd: null,
    costSource: null,
    ttftMs: null,
    totalMs: 500,
    outcome: 'UPSTREAM_ERROR',
    finishReason: null,
  }),
  requestRow({
    ts: at(`${DAY2}T10:00:00Z`),
    provider: 'together',
    model: 'meta-llama/Llama-3-8b',
    promptTokens: 400,
    completionTokens: 80,
    costUsd: 0.004,
    tokensSaved: 50,
    usdSaved: 0.0005,
    ttftMs: 400,
    totalMs: 4000,
  }),
  requestRow({
    ts: at(`${DAY2}T11:00:00Z`),
    procedure: 'classify',
    surface: 'rest',
    provider: null,
    model: null,
    promptTokens: 0,
    completionTokens: 0,
    tokensSource: null,
    costUsd: null,
    costSource: null,
    ttftMs: null,
    totalMs: 50,
    finishReason: null,
  }),
];
const bob = [requestRow({ key: 'bob', ts: at(`${DAY1}T10:30:00Z`), costUsd: 5 }), requestRow({ key: 'bob' })];
// 100 timed requests, 1..100 ms to the first token, for exact percentiles.
const carol = Array.from({ length: 100 }, (_, i) =>
  requestRow({ key: 'carol', ts: at(`${DAY1}T00:00:00Z`) + i, ttftMs: 100 - i, totalMs: 1000 + i }),
);

// One answer made upstream, then the same answer twice from the response cache.
const dave = [
  requestRow({ key: 'dave', costUsd: 0.002 }),
  ...[1, 2].map(() =>
    requestRow({ key: 'dave', cache: 'exact', cacheSavedUsd: 0.002, costUsd: 0, promptTokens: 0, completionTokens: 0 }),
  ),
];

const query = (input: UsageQueryInput = {}) => usageQuerySchema.parse(input);
const ids = (rows: RequestRow[]) => rows.map((row) => row.id);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe.each(ledgerBackends())('usage queries on $name', (backend) => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await createLedger(await backend.fresh());
    for (const row of [...alice, ...bob, ...carol, ...dave]) ledger.writer.add(row);
    await ledger.writer.flush();
  });
  afterAll(() => ledger?.close());

  it('stores every field of a row and reads it back unchanged, nulls and fallbacks included', async () => {
    const exported = await collect(ledger.export('alice', usageExportSchema.parse({})));

    expect(exported).toEqual(alice);
  });

  it('totals every request of the key, failed and unpriced ones included', async () => {
    const report = await ledger.query('alice', query());

    expect(report.totals).toEqual({
      requests: 6,
      failed: 1,
      promptTokens: 780,
      completionTokens: 150,
      totalTokens: 930,
      costUsd: expect.closeTo(0.008, 12),
      unpricedRequests: 3,
      estimatedRequests: 1,
      tokensSaved: 50,
      usdSaved: expect.closeTo(0.0005, 12),
      cacheHits: 0,
      cacheSavedUsd: 0,
    });
    expect(report).toMatchObject({ key: 'alice', since: `${DAY1}T10:00:00.000Z`, from: null, to: null, groups: [] });
  });

  it('counts the response cache’s hits and what they saved, and groups by how each request was answered', async () => {
    const report = await ledger.query('dave', query({ groupBy: ['cache'] }));

    expect(report.totals).toMatchObject({ requests: 3, costUsd: expect.closeTo(0.002, 12), cacheHits: 2 });
    expect(report.totals.cacheSavedUsd).toBeCloseTo(0.004, 12);
    expect(report.groups.map((g) => [g.cache, g.requests])).toEqual(
      expect.arrayContaining([
        ['exact', 2],
        [null, 1],
      ]),
    );
  });

  it('lists models by requests, requests no model answered under (none)', async () => {
    const { byModel } = await ledger.query('alice', query());

    expect(byModel.map((row) => [`${row.provider}/${row.model}`, row.requests])).toEqual([
      ['(none)/(none)', 2],
      ['openai/gpt-4o-mini', 2],
      ['anthropic/claude-3-haiku', 1],
      ['together/meta-llama/Llama-3-8b', 1],
    ]);
    expect(byModel[1]).toMatchObject({ promptTokens: 300, completionTokens: 60, costUsd: expect.closeTo(0.004, 12) });
  });

  it('splits by day and model, ordered by day then provider and model, unknowns last', async () => {
    const { groups } = await ledger.query('alice', query({ groupBy: ['day', 'model'] }));

    expect(groups.map((g) => [g.day, g.provider, g.model, g.requests])).toEqual([
      [DAY1, 'anthropic', 'claude-3-haiku', 1],
      [DAY1, 'openai', 'gpt-4o-mini', 2],
      [DAY2, 'openai', null, 1],
      [DAY2, 'together', 'meta-llama/Llama-3-8b', 1],
      [DAY2, null, null, 1],
    ]);
  });

  it.each([
    [
      'category',
      [
        ['chat', 1],
        ['code', 2],
        [null, 3],
      ],
    ],
    [
      'routing',
      [
        ['classified', 2],
        ['default', 1],
        [null, 3],
      ],
    ],
    [
      'procedure',
      [
        ['classify', 1],
        ['generate', 5],
      ],
    ],
    [
      'outcome',
      [
        ['OK', 5],
        ['UPSTREAM_ERROR', 1],
      ],
    ],
    [
      'day',
      [
        [DAY1, 3],
        [DAY2, 3],
      ],
    ],
  ] as const)('groups by %s', async (group, expected) => {
    const { groups } = await ledger.query('alice', query({ groupBy: [group] }));

    expect(groups.map((g) => [g[group], g.requests])).toEqual(expected);
  });

  it.each([
    ['the model name', { model: 'gpt-4o-mini' }, 2],
    ['provider/model', { model: 'openai/gpt-4o-mini' }, 2],
    ['a model name holding a slash', { model: 'meta-llama/Llama-3-8b' }, 1],
    ['provider/model where the model holds a slash', { model: 'together/meta-llama/Llama-3-8b' }, 1],
    ['another provider of the same model name', { model: 'anthropic/gpt-4o-mini' }, 0],
    ['category', { category: 'code' }, 2],
    ['procedure', { procedure: 'classify' }, 1],
    ['from, inclusive', { from: `${DAY1}T11:00:00Z` }, 5],
    ['to, exclusive', { to: `${DAY1}T11:00:00Z` }, 1],
    ['from and to', { from: `${DAY2}T00:00:00Z`, to: `${DAY2}T10:00:00Z` }, 1],
    ['a time with an offset', { from: `${DAY2}T01:00:00+02:00` }, 3],
  ] as const)('filters by %s', async (_, filter, requests) => {
    const report = await ledger.query('alice', query(filter));

    expect(report.totals.requests).toBe(requests);
  });

  it('dates the report from the earliest matching request, or now when none matches', async () => {
    const filtered = await ledger.query('alice', query({ from: `${DAY2}T00:00:00Z` }));
    const before = Date.now();
    const empty = await ledger.query('alice', query({ model: 'no-such-model' }));

    expect(filtered).toMatchObject({ since: `${DAY2}T09:00:00.000Z`, from: `${DAY2}T00:00:00Z` });
    expect(Date.parse(empty.since)).toBeGreaterThanOrEqual(before - 1000);
    expect(empty.totals.requests).toBe(0);
    expect(empty.byModel).toEqual([]);
  });

  it('gives exact nearest-rank latency percentiles over the requests with a first token', async () => {
    const { latency } = await ledger.query('carol', query());
    const small = await ledger.query('alice', query());

    expect(latency).toEqual({ ttftMs: { p50: 50, p95: 95, p99: 99 }, totalMs: { p50: 1049, p95: 1094, p99: 1098 } });
    // Alice: first tokens at 100, 200, 300, 400 ms; the two failed or untimed requests do not count.
    expect(small.latency).toEqual({
      ttftMs: { p50: 200, p95: 400, p99: 400 },
      totalMs: { p50: 2000, p95: 4000, p99: 4000 },
    });
  });

  it('has no percentiles when no matching request had a first token', async () => {
    const { latency } = await ledger.query('alice', query({ procedure: 'classify' }));

    expect(latency).toEqual({ ttftMs: null, totalMs: null });
  });

  it("never shows a key another key's rows, whatever the query names", async () => {
    const asBob = await ledger.query('bob', query({ key: 'alice' }));
    const exported = await collect(ledger.export('bob', usageExportSchema.parse({ key: 'alice' })));
    const nobody = await ledger.query('mallory', query());

    expect(asBob.totals).toMatchObject({ requests: 2, costUsd: expect.closeTo(5.001, 12) });
    expect(asBob.key).toBe('bob');
    expect(ids(exported)).toEqual(ids(bob));
    expect(nobody.totals.requests).toBe(0);
  });

  it('exports page by page in the order the rows were written', async () => {
    const all = await collect(exportUsageRows(ledger.db, 'carol', usageExportSchema.parse({}), { pageSize: 7 }));
    const capped = await collect(
      exportUsageRows(ledger.db, 'carol', usageExportSchema.parse({ limit: 10 }), { pageSize: 7 }),
    );

    expect(ids(all)).toEqual(ids(carol));
    expect(ids(capped)).toEqual(ids(carol.slice(0, 10)));
  });

  it('applies the same filters to the export as to the report', async () => {
    const exported = await collect(ledger.export('alice', usageExportSchema.parse({ model: 'openai/gpt-4o-mini' })));

    expect(ids(exported)).toEqual(ids(alice.slice(0, 2)));
  });
});
