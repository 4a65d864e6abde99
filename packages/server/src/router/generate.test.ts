import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedFrom, type ReplayUpstream, startReplayUpstream } from '../../test-utils/index.ts';
import { ANONYMOUS } from '../auth/credentials.ts';
import { loadConfig } from '../config.ts';
import type { GenerateEvent } from '../generation/events.ts';
import { LedgerService } from '../ledger/ledger-service.ts';
import { Lifecycle } from '../lifecycle.ts';
import { createRateLimiter } from '../limits/index.ts';
import { createLogger } from '../logger.ts';
import { createGatewayMetrics } from '../metrics/index.ts';
import { createMlClient } from '../ml/client.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import { loadCatalog } from '../routing/catalog.ts';
import { createCallerFactory } from '../trpc.ts';
import { appRouter } from './index.ts';

let upstream: ReplayUpstream;
const createCaller = createCallerFactory(appRouter);
let caller: ReturnType<typeof createCaller>;
/** A caller as a WebSocket client's calls run: with a connection (one with no send buffer to wait on). */
let socketCaller: ReturnType<typeof createCaller>;
/** A caller as tRPC's HTTP transport (SSE subscriptions) runs calls: no WebSocket, not in-process. */
let httpCaller: ReturnType<typeof createCaller>;
let lifecycle: Lifecycle;

beforeAll(async () => {
  upstream = await startReplayUpstream();
  const config = loadConfig({ GROQ_API_KEY: 'gsk-test-123456', GROQ_API_BASE_URL: upstream.baseURL });
  lifecycle = new Lifecycle();
  const context = {
    config,
    registry: createProviderRegistry(config),
    ml: createMlClient({ baseUrl: config.ML_SERVICE_URL, timeoutMs: 1000 }),
    catalog: loadCatalog(),
    lifecycle,
    logger: createLogger('silent'),
    limiter: createRateLimiter({}),
    // No request log here: the ledger's own tests and the gateway's cover it.
    ledger: new LedgerService(null),
    budgets: null,
    cache: null,
    surface: 'http' as const,
    metrics: createGatewayMetrics(),
    connection: null,
    inProcess: false,
    principal: ANONYMOUS,
  };
  caller = createCaller({ ...context, inProcess: true });
  socketCaller = createCaller({ ...context, connection: {} });
  httpCaller = createCaller(context);
});
afterAll(() => upstream.close());

/** Over a WebSocket each event is tRPC's raw tracked envelope, [id, event, marker], not { id, data }. */
function unwrap(item: unknown): { id: string; event: GenerateEvent } {
  const [id, event] = item as [string, GenerateEvent];
  return { id, event };
}

async function collect(stream: AsyncIterable<unknown>) {
  const events: GenerateEvent[] = [];
  for await (const item of stream) events.push(item as GenerateEvent);
  return events;
}

describe('generate procedure', () => {
  it('yields tracked events with ids that count up within one request over a WebSocket', async () => {
    const stream = await socketCaller.generate({ prompt: 'hi', model: 'groq-thinking-part-iter-1' });
    const ids: string[] = [];
    const events: GenerateEvent[] = [];
    for await (const item of stream) {
      const { id, event } = unwrap(item);
      ids.push(id);
      events.push(event);
    }
    const requestId = events[0]?.type === 'metadata' ? events[0].requestId : '';
    expect(ids.slice(0, 3)).toEqual([`${requestId}:0`, `${requestId}:1`, `${requestId}:2`]);
    expect(
      events
        .filter((e) => e.type === 'reasoning')
        .map((e) => e.text)
        .join(''),
    ).toBe(expectedFrom('groq-thinking-part-iter-1').reasoning);
    expect(lifecycle.activeStreams).toBe(0);
  });

  it("tracks events over tRPC's HTTP transport too, so an SSE client that reconnects is not answered twice", async () => {
    const [first] = await collect(await httpCaller.generate({ prompt: 'hi', model: 'groq-thinking-part-iter-1' }));
    const { id, event } = unwrap(first);

    expect(event).toMatchObject({ type: 'metadata' });
    expect(id).toBe(`${event.type === 'metadata' ? event.requestId : ''}:0`);
  });

  it('yields the plain events, with no tracked id, to the in-process adapters (REST, /v1)', async () => {
    const events = await collect(await caller.generate({ prompt: 'hi', model: 'groq-thinking-part-iter-1' }));

    expect(events[0]).toMatchObject({ type: 'metadata' });
    expect(events.at(-1)).toMatchObject({ type: 'end' });
  });

  it('refuses to replay a generation for a client that resubscribes after a lost connection', async () => {
    const stream = await socketCaller.generate({ prompt: 'hi', model: 'm', lastEventId: 'abc:12' });
    await expect(collect(stream)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses new streams while the gateway drains', async () => {
    lifecycle.draining = true;
    try {
      const stream = await caller.generate({ prompt: 'hi', model: 'm' });
      await expect(collect(stream)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    } finally {
      lifecycle.draining = false;
    }
  });
});
