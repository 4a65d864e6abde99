import type { ServerResponse } from 'node:http';
import { appRouter } from '../router/index.ts';
import { createCallerFactory, type GatewayContext } from '../trpc.ts';

const createCaller = createCallerFactory(appRouter);
export type ProcedureCaller = ReturnType<typeof createCaller>;

/** The context of an adapter's request (REST, /v1): in-process, so streams yield plain events (see eventStream). */
export type HttpContext = GatewayContext & { connection: null; inProcess: true };

/**
 * The procedures, called in-process for one plain HTTP request (REST, /v1). A
 * client that disconnects before its answer is complete aborts the call: the
 * ML requests and the upstream stream stop with it.
 */
export function procedureCaller(ctx: HttpContext, res: ServerResponse): ProcedureCaller {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  // Node hands a response's writes to the kernel on the next tick: bytes still queued when the next upstream read comes are ones the client has not read.
  return createCaller({ ...ctx, clientBehind: () => res.writableLength > 0 }, { signal: controller.signal });
}

/**
 * A stream as a caller with no WebSocket receives it. tRPC types every
 * subscription event as tracked (`{ id, data }`, what its WebSocket clients
 * get), but eventStream adds ids over WebSockets only: here each item is the
 * event itself, and nothing needs unwrapping.
 */
export function plainEvents<E>(stream: AsyncIterable<{ id: string; data: E }>): AsyncIterable<E> {
  return stream as unknown as AsyncIterable<E>;
}
