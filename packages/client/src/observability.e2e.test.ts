import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '@tokenflow/server';
import { type RunningGateway, type RunningMlService, startTestMlService } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenFlowClient, type SelectModelEvent, streamSelectModel } from './index.ts';
import { type Stack, startStack } from './test/stack.ts';

type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
};

/** A stand-in OpenTelemetry collector: keeps what both services export to /v1/traces. */
async function startCollector() {
  const spans: OtlpSpan[] = [];
  const protobufExports: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (String(req.headers['content-type']).includes('json')) {
        const parsed = JSON.parse(body.toString()) as {
          resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
        };
        for (const r of parsed.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
      } else protobufExports.push(String(req.headers['user-agent'] ?? ''));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    protobufExports,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const attribute = (span: OtlpSpan, key: string) => span.attributes.find((a) => a.key === key)?.value.stringValue;

/** The ML service's JSON log lines so far (anything else it printed is skipped). */
function mlLogLines(): Array<Record<string, unknown>> {
  return ml.logs().flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

let collector: Awaited<ReturnType<typeof startCollector>>;
let stack: Stack;
let ml: RunningMlService;
let gateway: RunningGateway;
const gatewayLogs: string[] = [];

beforeAll(async () => {
  collector = await startCollector();
  ml = await startTestMlService({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, ML_LOG_LEVEL: 'info' });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      gatewayLogs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  stack = await startStack(
    {
      // Groq alone, so that the trace names the provider it asked.
      OPENROUTER_API_KEY: undefined,
      LOCAL_PROVIDER: 'off',
      ROUTING_CLASSIFY_TIMEOUT_MS: '10000',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    },
    { scenario: { fixture: 'groq-thinking-part-iter-0' }, ml, logger: createLogger('info', sink) },
  );
  ({ gateway } = stack);
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await collector?.close();
});

describe('one request, followed across both services', () => {
  let requestId = '';
  const events: SelectModelEvent[] = [];

  beforeAll(async () => {
    const client = createTokenFlowClient({ url: gateway.url, WebSocket });
    try {
      for await (const event of streamSelectModel(client, {
        prompt: 'Write a Python function that reverses a list.',
      })) {
        events.push(event);
        if (event.type === 'metadata') requestId = event.requestId;
      }
    } finally {
      await client.close();
    }
  }, 60_000);

  it('returns the request id in the metadata event', () => {
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events.at(-1)?.type).toBe('end');
  });

  it('logs the same request id on the gateway and on the ML service', async () => {
    const gatewayLines = gatewayLogs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(gatewayLines.filter((l) => l.requestId === requestId).map((l) => l.msg)).toEqual(
      expect.arrayContaining(['selectModel metadata', 'selectModel finished']),
    );
    await expect.poll(() => mlLogLines().filter((l) => l.request_id === requestId).length).toBeGreaterThan(0);
  });

  it('exports one trace: the stream span, its ML call and its provider request, continued by the ML service', async () => {
    // Spans leave in batches; closing the gateway flushes its exporter.
    await gateway.close();
    const root = collector.spans.find(
      (s) => s.name === 'selectModel' && attribute(s, 'tokenflow.request_id') === requestId,
    );
    expect(root).toBeDefined();
    const trace = collector.spans.filter((s) => s.traceId === root?.traceId);
    const children = trace.filter((s) => s.parentSpanId === root?.spanId).map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining(['ml classify', 'provider groq']));

    // The ML service continues the same trace: its log line for this request names it.
    const mlLine = mlLogLines().find((l) => l.request_id === requestId && typeof l.trace_id === 'string');
    expect(mlLine?.trace_id).toBe(root?.traceId);
    await expect.poll(() => collector.protobufExports.length, { timeout: 15_000 }).toBeGreaterThan(0);
  }, 30_000);
});
