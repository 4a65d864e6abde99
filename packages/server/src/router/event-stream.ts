import { randomUUID } from 'node:crypto';
import { TRPCError, tracked } from '@trpc/server';
import type { StreamTimeouts } from '../providers/chat-stream.ts';
import type { GatewayContext } from '../trpc.ts';

export interface StreamScope {
  requestId: string;
  signal: AbortSignal;
  timeouts: StreamTimeouts;
}

/**
 * What every streaming procedure does around its events: refuse resumption and
 * new work while draining, count the stream for graceful shutdown, give each
 * event a tracked id, and log how the stream went.
 */
export async function* eventStream<E extends { type: string; provider?: string; model?: string }>(
  procedure: string,
  opts: { ctx: GatewayContext; signal: AbortSignal | undefined; lastEventId: string | null | undefined },
  run: (scope: StreamScope) => AsyncIterable<E>,
) {
  const { ctx } = opts;
  if (opts.lastEventId) {
    // The client lost its connection and resubscribed. The upstream stream died
    // with the old connection, and replaying it from scratch would duplicate text.
    throw new TRPCError({
      code: 'CONFLICT',
      message: `The stream was interrupted after event ${opts.lastEventId} and a generation cannot be resumed; send the request again.`,
    });
  }
  if (ctx.lifecycle.draining) {
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The gateway is shutting down; retry shortly.' });
  }
  const requestId = randomUUID();
  const signal = opts.signal ?? new AbortController().signal;
  const timeouts = {
    firstTokenMs: ctx.config.GENERATE_FIRST_TOKEN_TIMEOUT_MS,
    idleMs: ctx.config.GENERATE_IDLE_TIMEOUT_MS,
  };
  const log = ctx.logger.child({ requestId, procedure });
  ctx.lifecycle.streamStarted(ctx.connection);
  const started = performance.now();
  let events = 0;
  try {
    for await (const event of run({ requestId, signal, timeouts })) {
      if (event.type === 'metadata' || event.type === 'fallback') {
        log.info({ event: event as object }, `${procedure} ${event.type}`);
      }
      // Tracked ids let a resubscribing client tell us where it stopped (see above).
      yield tracked(`${requestId}:${events++}`, event);
    }
    log.info({ events, ms: Math.round(performance.now() - started), aborted: signal.aborted }, `${procedure} finished`);
  } catch (error) {
    const code = error instanceof TRPCError ? error.code : 'INTERNAL_SERVER_ERROR';
    const err = error instanceof Error ? error.message : String(error);
    log.warn({ events, code, err }, `${procedure} failed`);
    throw error;
  } finally {
    ctx.lifecycle.streamEnded(ctx.connection);
  }
}
