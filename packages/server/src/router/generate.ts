import { randomUUID } from 'node:crypto';
import { TRPCError, tracked } from '@trpc/server';
import { runGeneration } from '../generation/generate.ts';
import { generateInputSchema } from '../generation/input.ts';
import { publicProcedure } from '../trpc.ts';

export const generate = publicProcedure.input(generateInputSchema).subscription(async function* ({
  input,
  ctx,
  signal,
}) {
  if (input.lastEventId) {
    // The client lost its connection and resubscribed. The upstream stream died
    // with the old connection, and replaying it from scratch would duplicate text.
    throw new TRPCError({
      code: 'CONFLICT',
      message: `The stream was interrupted after event ${input.lastEventId} and a generation cannot be resumed; send the request again.`,
    });
  }
  if (ctx.lifecycle.draining) {
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The gateway is shutting down; retry shortly.' });
  }
  const requestId = randomUUID();
  const timeouts = {
    firstTokenMs: ctx.config.GENERATE_FIRST_TOKEN_TIMEOUT_MS,
    idleMs: ctx.config.GENERATE_IDLE_TIMEOUT_MS,
  };
  const log = ctx.logger.child({ requestId, procedure: 'generate' });
  ctx.lifecycle.streamStarted(ctx.connection);
  const started = performance.now();
  let events = 0;
  try {
    const stream = runGeneration(input, {
      registry: ctx.registry,
      timeouts,
      requestId,
      signal: signal ?? new AbortController().signal,
    });
    for await (const event of stream) {
      if (event.type === 'metadata') log.info({ provider: event.provider, model: event.model }, 'generate started');
      // Tracked ids let a resubscribing client tell us where it stopped (see above).
      yield tracked(`${requestId}:${events++}`, event);
    }
    log.info(
      { events, ms: Math.round(performance.now() - started), aborted: signal?.aborted ?? false },
      'generate finished',
    );
  } catch (error) {
    log.warn(
      {
        events,
        code: error instanceof TRPCError ? error.code : 'INTERNAL_SERVER_ERROR',
        err: error instanceof Error ? error.message : String(error),
      },
      'generate failed',
    );
    throw error;
  } finally {
    ctx.lifecycle.streamEnded(ctx.connection);
  }
});
