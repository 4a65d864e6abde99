import { randomUUID } from 'node:crypto';
import { TRPCError, type TrackedEnvelope, tracked } from '@trpc/server';
import type { Reservation } from '../budgets/budget-guard.ts';
import type { WorstCase } from '../budgets/worst-case.ts';
import type { ObservedEvent } from '../ledger/stream-record.ts';
import { StreamRecord } from '../ledger/stream-record.ts';
import { retryLater } from '../limits/refusal.ts';
import type { Coalesce, StreamTimeouts } from '../providers/chat-stream.ts';
import { priceOf } from '../routing/catalog.ts';
import { endSpan, SpanKind, startSpan, withSpanActive } from '../telemetry/tracing.ts';
import { admit, type GatewayContext } from '../trpc.ts';
import { waitForReader } from './backpressure.ts';

export interface StreamScope {
  requestId: string;
  signal: AbortSignal;
  timeouts: StreamTimeouts;
  coalesce?: Coalesce | undefined;
}

type StreamEvent = ObservedEvent;

const NOTHING: WorstCase = { promptTokens: 0, tokens: 0, usd: 0 };

/**
 * What every streaming procedure does around its events: refuse resumption and
 * new work while draining, enforce the caller's limits and budgets (holding
 * `estimate`, the request's worst-case cost), count the stream for graceful
 * shutdown, log how the stream went, and write its ledger row when it ends,
 * whichever way it ends.
 *
 * For tRPC's transports it also does their part: each event gets a tracked
 * id (a client that resubscribes over a WebSocket or tRPC's HTTP SSE sends
 * the last one), and over a WebSocket (ctx.connection set) it holds back
 * while the client is behind. The adapters that call procedures in-process
 * (ctx.inProcess: REST, /v1) get the plain events. tRPC types a procedure's
 * output, not a transport's: the declared type is what tRPC clients receive;
 * `plainEvents` in http/call-procedure.ts is the other side.
 */
export async function* eventStream<E extends StreamEvent>(
  procedure: 'generate' | 'selectModel',
  opts: {
    ctx: GatewayContext;
    signal: AbortSignal | undefined;
    lastEventId: string | null | undefined;
    estimate?: (() => WorstCase) | undefined;
  },
  run: (scope: StreamScope) => AsyncIterable<E>,
): AsyncGenerator<TrackedEnvelope<E>> {
  const { ctx } = opts;
  const { config, connection, principal } = ctx;
  const requestId = randomUUID();
  let estimate = NOTHING;
  const record = new StreamRecord(
    { id: requestId, key: principal.name, procedure, surface: ctx.surface, ts: Date.now() },
    () => estimate.promptTokens,
    (ref) => priceOf(ctx.catalog, ref),
  );
  // Counts the stream in tokenflow_* metrics once it ends, refusals below included.
  const meter = ctx.metrics.stream(procedure, principal.name);
  // A stream refused before it starts is logged too, with nothing consumed.
  const refuse = (error: TRPCError) => {
    ctx.ledger.record(record.row(error.code));
    return meter.refuse(error);
  };
  if (opts.lastEventId) {
    // The client lost its connection and resubscribed. The upstream stream died
    // with the old connection, and replaying it from scratch would duplicate text.
    throw refuse(
      new TRPCError({
        code: 'CONFLICT',
        message: `The stream was interrupted after event ${opts.lastEventId} and a generation cannot be resumed; send the request again.`,
      }),
    );
  }
  if (ctx.lifecycle.draining) {
    throw refuse(
      new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The gateway is shutting down; retry shortly.' }),
    );
  }
  if (connection && ctx.lifecycle.streamsOn(connection) >= config.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION) {
    ctx.metrics.rateLimited(principal.name, 'subscriptions');
    throw refuse(
      new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `This connection already runs ${config.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION} streams (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION); wait for one to end or open another connection.`,
        cause: retryLater(1000),
      }),
    );
  }
  const signal = opts.signal ?? new AbortController().signal;
  const backpressure = {
    highWaterBytes: config.WS_HIGH_WATER_BYTES,
    maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
    slowConsumerTimeoutMs: config.SLOW_CONSUMER_TIMEOUT_MS,
  };
  const timeouts = {
    firstTokenMs: ctx.config.GENERATE_FIRST_TOKEN_TIMEOUT_MS,
    idleMs: ctx.config.GENERATE_IDLE_TIMEOUT_MS,
  };
  const log = ctx.logger.child({ requestId, procedure });
  const span = startSpan(procedure, SpanKind.SERVER, {
    'tokenflow.request_id': requestId,
    'tokenflow.key': principal.name,
  });
  let failure: unknown;
  // Counted before the first await, so streams that start together cannot all slip under the cap.
  ctx.lifecycle.streamStarted(connection);
  const started = performance.now();
  let events = 0;
  let release = async () => {};
  let reservation: Reservation | null = null;
  try {
    release = await admit(ctx, true);
    estimate = opts.estimate?.() ?? NOTHING;
    if (ctx.budgets) reservation = await ctx.budgets.reserve(principal.name, principal.budgets, estimate, requestId);
    const scope = { requestId, signal, timeouts, coalesce: ctx.clientBehind };
    for await (const event of withSpanActive(span, run(scope))) {
      meter.event(event);
      record.observe(event);
      if (event.type === 'metadata' || event.type === 'fallback') {
        log.info({ event: event as object }, `${procedure} ${event.type}`);
        const chosen = event.type === 'fallback' ? (event as { to?: { provider: string; model: string } }).to : event;
        span.setAttributes({ 'tokenflow.provider': chosen?.provider ?? '', 'tokenflow.model': chosen?.model ?? '' });
      }
      // A cached answer used no provider tokens.
      if (event.type === 'end' && event.usage && !event.cache && principal.limits.tokensPerMinute !== undefined) {
        await ctx.limiter.recordTokens(principal.name, event.usage.totalTokens).catch(() => undefined);
      }
      const id = `${requestId}:${events++}`;
      if (ctx.inProcess) {
        yield event as unknown as TrackedEnvelope<E>;
        continue;
      }
      await waitForReader(connection, backpressure, signal);
      // Tracked ids let a resubscribing client (WebSocket or tRPC's HTTP SSE) tell us where it stopped (see above).
      yield tracked(id, event);
    }
    log.info({ events, ms: Math.round(performance.now() - started), aborted: signal.aborted }, `${procedure} finished`);
  } catch (error) {
    const code = error instanceof TRPCError ? error.code : 'INTERNAL_SERVER_ERROR';
    const err = error instanceof Error ? error.message : String(error);
    log.warn({ events, code, err }, `${procedure} failed`);
    meter.finish(signal.aborted ? 'CLIENT_CLOSED_REQUEST' : code);
    failure = error;
    throw error;
  } finally {
    const code = failure instanceof TRPCError ? failure.code : failure ? 'INTERNAL_SERVER_ERROR' : 'OK';
    // A caller that leaves before the end (an unsubscribe, a closed socket) cut the stream; so does a shutdown.
    const cut = signal.aborted || (!failure && !record.ended);
    const outcome = cut ? (ctx.lifecycle.draining ? 'SERVICE_UNAVAILABLE' : 'CLIENT_CLOSED_REQUEST') : code;
    ctx.ledger.record(record.row(outcome));
    reservation?.settle(record.spent());
    endSpan(span, failure);
    meter.settle(signal.aborted);
    ctx.lifecycle.streamEnded(connection);
    await release();
  }
}
