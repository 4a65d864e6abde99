import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { causeDetails } from '../limits/refusal.ts';
import { classifyInputSchema, compressInputSchema } from '../ml/schemas.ts';
import { publicMessage } from '../trpc.ts';
import { snakeCase, toCamelKeys, toSnakeKeys } from '../wire/case.ts';
import { type HttpContext, type ProcedureCaller, plainEvents, procedureCaller } from './call-procedure.ts';
import { eventStreamResponse, readJson, sendJson } from './respond.ts';

type Body = Record<string, unknown>;
type Input<P extends keyof ProcedureCaller> = Parameters<ProcedureCaller[P]>[0];

function errorBody(error: unknown) {
  const trpc = error instanceof TRPCError ? error : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: error });
  const { upstream, retryAfterMs } = causeDetails(trpc.cause);
  return {
    status: getHTTPStatusCodeFromError(trpc),
    body: { code: trpc.code, message: publicMessage(trpc), upstream, retryAfterMs },
  };
}

/**
 * A snake_case body as the procedure's camelCase input. Fields the input does
 * not have are refused under the names the caller sent (the procedure would
 * name them in camelCase), and before renaming, so "__proto__" never is one.
 */
function camelInput(body: Body, known: string[]): Body {
  const unknown = Object.keys(body).filter((field) => !known.includes(field));
  if (unknown.length > 0) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `Invalid input: unknown field(s) ${unknown.map((f) => `"${f}"`).join(', ')}; expected ${known.join(', ')}.`,
    });
  }
  return toCamelKeys(body);
}

/** The snake_case fields a procedure's input has. */
const snakeFields = (schema: { shape: object }) => Object.keys(schema.shape).map(snakeCase);
const COMPRESS_FIELDS = snakeFields(compressInputSchema);
const CLASSIFY_FIELDS = snakeFields(classifyInputSchema);

/** The REST API's snake_case JSON routes: the procedures' inputs and results, renamed. */
const jsonRoutes: Record<string, (caller: ProcedureCaller, body: Body) => Promise<unknown>> = {
  'POST /api/compress': async (caller, body) =>
    toSnakeKeys(await caller.compress(camelInput(body, COMPRESS_FIELDS) as Input<'compress'>)),
  'POST /api/classify': async (caller, body) =>
    toSnakeKeys(await caller.classify(camelInput(body, CLASSIFY_FIELDS) as Input<'classify'>)),
  'GET /api/model-rankings': (caller) => caller.modelRankings(),
  'GET /api/usage': (caller) => caller.usage(),
};

/** The streams take the procedures' camelCase input as it is. */
const streamRoutes: Record<string, (caller: ProcedureCaller, body: Body) => Promise<AsyncIterable<SseEvent>>> = {
  'POST /api/generate': async (caller, body) => plainEvents(await caller.generate(body as Input<'generate'>)),
  'POST /api/models/select': async (caller, body) =>
    plainEvents(await caller.selectModel(body as Input<'selectModel'>)),
};

type SseEvent = { type: string };

/** Our events under the REST API's SSE event names (those it has always sent, then ours). */
function toSse(event: SseEvent): [string, unknown] {
  const { type, ...data } = event;
  switch (type) {
    case 'text':
      return ['text_chunk', data];
    case 'reasoning':
      return ['reasoning_chunk', data];
    case 'toolCall':
      return ['tool_call_chunk', data];
    case 'end':
      return ['end_stream', data];
    default:
      return [type, data];
  }
}

async function stream(res: ServerResponse, events: AsyncIterable<SseEvent>, slowConsumerTimeoutMs: number) {
  const send = eventStreamResponse(res, slowConsumerTimeoutMs);
  try {
    for await (const event of events) await send(...toSse(event));
  } catch (error) {
    await send('error', errorBody(error).body);
  }
  res.end();
}

/**
 * The REST + SSE API (`/api/*`) for clients that do not speak tRPC: each route
 * calls a procedure (procedureCaller) and only translates shapes.
 * Returns false for paths it does not serve.
 */
export async function handleRest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: HttpContext,
): Promise<boolean> {
  const key = `${req.method} ${path}`;
  const jsonRoute = jsonRoutes[key];
  const streamRoute = streamRoutes[key];
  if (!jsonRoute && !streamRoute) return false;

  const caller = procedureCaller(ctx, res);
  try {
    const body = req.method === 'POST' ? await readJson(req, ctx.config.HTTP_MAX_BODY_BYTES) : {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'The body must be a JSON object.' });
    }
    if (jsonRoute) {
      sendJson(res, 200, await jsonRoute(caller, body as Body));
    } else if (streamRoute) {
      // Input errors are answered with a status before the stream starts.
      await stream(res, await streamRoute(caller, body as Body), ctx.config.SLOW_CONSUMER_TIMEOUT_MS);
    }
  } catch (error) {
    const { status, body } = errorBody(error);
    if (!res.headersSent && body.retryAfterMs !== null) {
      res.setHeader('retry-after', String(Math.ceil(body.retryAfterMs / 1000)));
    }
    if (!res.headersSent) sendJson(res, status, body);
    else res.end();
  }
  return true;
}
