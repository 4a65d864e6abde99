import { hashApiKey, type ReplayUpstream, type RunningGateway, startGateway } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  createTokenFlowClient,
  isTokenFlowError,
  streamGenerate,
  streamSelectModel,
  type TokenFlowClient,
} from './index.ts';
import { type Stack, startStack } from './test/stack.ts';

// ---- A small parser for Prometheus' text exposition format (no dependency needed). ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const unescapeLabel = (value: string) => value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const [, name = '', rawLabels = '', rawValue = ''] = match;
    const labels: Record<string, string> = {};
    for (const [, key = '', value = ''] of rawLabels.matchAll(LABEL)) labels[key] = unescapeLabel(value);
    samples.push({ name, labels, value: Number(rawValue) });
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include `labels`. */
function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

// ---- The stack: replay upstream <- gateway with API keys, an ML service that is not there. ----

const OPS = 'tf_ops-key-000000000000000000000000000000000000000';
const LIMITED = 'tf_limited-key-0000000000000000000000000000000000000';

// Models are named after recordings, so the replay upstream answers each with its stream.
const ANSWERING = { provider: 'openrouter', model: 'openrouter-stream-with-native-options' } as const;
const FAILING = { provider: 'groq', model: 'groq-thinking-part-iter-0' } as const;
// The recording's own usage (fixtures/upstream-streams/openrouter-stream-with-native-options.sse).
const USAGE = { in: 687, out: 187, costUsd: 0.00333825 };

const CATALOG = {
  defaultCategory: 'general',
  models: [
    {
      ...FAILING,
      categories: { general: 1 },
      contextWindow: 131_072,
      price: { inputPerMTok: 0.1, outputPerMTok: 0.2 },
    },
    {
      ...ANSWERING,
      categories: { general: 2 },
      contextWindow: 131_072,
      price: { inputPerMTok: 0.1, outputPerMTok: 0.2 },
    },
  ],
};

let stack: Stack;
let upstream: ReplayUpstream;
let gateway: RunningGateway;
const clients: TokenFlowClient[] = [];

function client(apiKey: string) {
  const made = createTokenFlowClient({ url: gateway.url, WebSocket, apiKey });
  clients.push(made);
  return made;
}

async function scrape(apiKey: string | null = OPS): Promise<{ status: number; contentType: string; text: string }> {
  const response = await fetch(`${gateway.url}/metrics`, {
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

const samples = async () => parseExposition((await scrape()).text);

/** How a stream ended: null after its `end` event, else the tRPC error code. */
async function outcome(events: AsyncIterable<{ type: string }>, onEvent?: (type: string) => Promise<void>) {
  try {
    for await (const event of events) await onEvent?.(event.type);
    return null;
  } catch (error) {
    if (!isTokenFlowError(error)) throw error;
    return error.data?.code ?? 'UNKNOWN';
  }
}

beforeAll(async () => {
  // No Python service (the stack has none): classification fails fast and selectModel routes to the default category.
  stack = await startStack(
    {
      LOCAL_PROVIDER: 'off',
      TOKENFLOW_API_KEYS: JSON.stringify([
        { name: 'ops', hash: hashApiKey(OPS) },
        { name: 'limited', hash: hashApiKey(LIMITED), limits: { requestsPerMinute: 1 } },
      ]),
      UPSTREAM_RETRY_ATTEMPTS: '0',
      BREAKER_FAILURE_THRESHOLD: '1000',
    },
    { catalog: CATALOG },
  );
  ({ upstream, gateway } = stack);
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stack?.close();
});

describe('GET /metrics', () => {
  it('asks for an API key when keys are configured, and answers in the Prometheus text format', async () => {
    const refused = await scrape(null);
    expect(refused.status).toBe(401);
    const wrong = await scrape('tf_not-a-key-000000000000000000000000');
    expect(wrong.status).toBe(401);

    const { status, contentType, text } = await scrape(OPS);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parseExposition(text);
    expect(sum(parsed, 'tokenflow_websocket_connections')).toBe(0);
    expect(
      parsed.some((s) => s.name === 'process_resident_memory_bytes' || s.name === 'nodejs_heap_size_used_bytes'),
    ).toBe(true);
    expect(parsed.find((s) => s.name === 'tokenflow_circuit_breaker_state' && s.labels.breaker === 'groq')?.value).toBe(
      0,
    );
    expect(parsed.some((s) => s.labels.breaker === 'ml-service')).toBe(true);
    // No raw key ever appears, only key names.
    expect(text).not.toContain(OPS);
  });

  it('serves scrapes without a key when METRICS_PUBLIC=1, while tRPC still asks for one', async () => {
    const open = await startGateway({
      TOKENFLOW_API_KEYS: JSON.stringify([{ name: 'ops', hash: hashApiKey(OPS) }]),
      METRICS_PUBLIC: '1',
    });
    try {
      const metrics = await fetch(`${open.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE tokenflow_requests_total counter');
      expect((await fetch(`${open.url}/trpc/health`)).status).toBe(401);
    } finally {
      await open.close();
    }
  });

  it('moves every counter by exactly what a scripted session did, and the gauges back to 0', async () => {
    const before = await samples();
    const ops = client(OPS);
    const limited = client(LIMITED);
    const generate = { prompt: 'hi', model: `${ANSWERING.provider}/${ANSWERING.model}` };

    // 1. A successful stream, slowed down so that mid-stream the gauges see it and its WebSocket.
    upstream.use({ eventDelayMs: 10 });
    let during: Sample[] = [];
    const first = await outcome(streamGenerate(ops, generate), async (type) => {
      if (type === 'text' && during.length === 0) during = await samples();
    });
    expect(first).toBeNull();
    upstream.use({});
    expect(sum(during, 'tokenflow_active_streams')).toBe(1);
    expect(sum(during, 'tokenflow_websocket_connections')).toBe(1);

    // 2. The limited key's one request of the minute, then 3. its refusal.
    expect(await outcome(streamGenerate(limited, generate))).toBeNull();
    expect(await outcome(streamGenerate(limited, generate))).toBe('TOO_MANY_REQUESTS');

    // 4. A stream the provider fails with HTTP 500.
    upstream.use({ fault: { kind: 'status', status: 500 } });
    const failedCode = await outcome(streamGenerate(ops, generate));
    expect(failedCode).toBe('BAD_GATEWAY');

    // 5. selectModel: the first candidate fails with 500 before any token, the second answers.
    upstream.use((request) => (request.body.model === FAILING.model ? { fault: { kind: 'status', status: 500 } } : {}));
    const fallbackCodes: string[] = [];
    let selectOutcome: string | null = 'not run';
    try {
      for await (const event of streamSelectModel(ops, { prompt: 'Tell me something nice.' })) {
        if (event.type === 'fallback') fallbackCodes.push(event.code);
      }
      selectOutcome = null;
    } catch (error) {
      selectOutcome = isTokenFlowError(error) ? (error.data?.code ?? 'UNKNOWN') : String(error);
    }
    upstream.use({});
    expect(selectOutcome).toBeNull();
    expect(fallbackCodes).toEqual(['BAD_GATEWAY']);

    // 6. A query.
    await ops.trpc.modelRankings.query();

    await Promise.all(clients.splice(0).map((c) => c.close()));
    // The server sees the sockets close a moment after the clients do.
    await expect.poll(async () => sum(await samples(), 'tokenflow_websocket_connections')).toBe(0);
    const after = await samples();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sum(after, name, labels) - sum(before, name, labels);

    expect(moved('tokenflow_requests_total', { procedure: 'generate', code: 'OK' })).toBe(2);
    expect(moved('tokenflow_requests_total', { procedure: 'generate', code: 'TOO_MANY_REQUESTS' })).toBe(1);
    expect(moved('tokenflow_requests_total', { procedure: 'generate', code: 'BAD_GATEWAY' })).toBe(1);
    expect(moved('tokenflow_requests_total', { procedure: 'selectModel', code: 'OK' })).toBe(1);
    expect(moved('tokenflow_requests_total', { procedure: 'modelRankings', code: 'OK' })).toBe(1);
    expect(moved('tokenflow_requests_total')).toBe(6);

    expect(moved('tokenflow_rate_limit_rejections_total', { key: 'limited', limit: 'requests' })).toBe(1);
    expect(moved('tokenflow_rate_limit_rejections_total')).toBe(1);
    expect(moved('tokenflow_fallbacks_total', { from_provider: 'groq', code: 'BAD_GATEWAY' })).toBe(1);

    const answering = { provider: ANSWERING.provider, model: ANSWERING.model };
    // Three answers: two generate streams (ops, limited) and the selectModel fallback target (ops).
    expect(moved('tokenflow_tokens_total', { ...answering, key: 'ops', direction: 'in' })).toBe(2 * USAGE.in);
    expect(moved('tokenflow_tokens_total', { ...answering, key: 'ops', direction: 'out' })).toBe(2 * USAGE.out);
    expect(moved('tokenflow_tokens_total', { ...answering, key: 'limited', direction: 'in' })).toBe(USAGE.in);
    expect(moved('tokenflow_tokens_total', { ...answering, key: 'limited', direction: 'out' })).toBe(USAGE.out);
    expect(moved('tokenflow_tokens_total')).toBe(3 * (USAGE.in + USAGE.out));
    expect(moved('tokenflow_cost_usd_total', { ...answering, key: 'ops' })).toBeCloseTo(2 * USAGE.costUsd, 10);
    expect(moved('tokenflow_cost_usd_total', { ...answering, key: 'limited' })).toBeCloseTo(USAGE.costUsd, 10);

    // Time to first token: the three answers. Duration: those plus the failed stream (it reached a model).
    expect(moved('tokenflow_time_to_first_token_seconds_count', answering)).toBe(3);
    expect(moved('tokenflow_time_to_first_token_seconds_count')).toBe(3);
    expect(moved('tokenflow_stream_duration_seconds_count', answering)).toBe(4);
    expect(moved('tokenflow_stream_duration_seconds_count')).toBe(4);
    expect(moved('tokenflow_stream_duration_seconds_bucket', { ...answering, le: '+Inf' })).toBe(4);

    // selectModel asked the (absent) ML service for a category once.
    expect(moved('tokenflow_ml_request_duration_seconds_count', { endpoint: 'classify' })).toBe(1);
    expect(moved('tokenflow_ml_request_duration_seconds_count', { endpoint: 'classify', outcome: 'ok' })).toBe(0);

    expect(sum(after, 'tokenflow_active_streams')).toBe(0);
    expect(sum(after, 'tokenflow_websocket_connections')).toBe(0);
    // Labels hold key names and catalog models only, never a key or a prompt.
    const text = (await scrape()).text;
    for (const secret of [OPS, LIMITED, 'Tell me something nice.']) expect(text).not.toContain(secret);
  });
});
