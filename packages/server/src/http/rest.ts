import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { toCsvLines } from '../ledger/csv.ts';
import { usageExportSchema, usageQuerySchema } from '../ledger/usage-query.ts';
import { causeDetails } from '../limits/refusal.ts';
import { classifyInputSchema, compressInputSchema } from '../ml/schemas.ts';
import { usageRows } from '../router/usage.ts';
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
const USAGE_FIELDS = snakeFields(usageQuerySchema);
const EXPORT_FIELDS = snakeFields(usageExportSchema);

/**
 * A GET's query string as an input: `?from=...&group_by=day,model` is
 * `{ from, groupBy: ['day', 'model'] }`. A parameter sent twice is refused
 * rather than one of them silently kept.
 */
function queryInput(url: string | undefined, known: string[], lists: string[] = []): Body {
  const params = new URL(url ?? '/', 'http://gateway').searchParams;
  const body: Body = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    if (values.length > 1) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `Invalid input: "${name}" is given ${values.length} times.`,
      });
    }
    const value = values[0] ?? '';
    body[name] = lists.includes(name) ? value.split(',').filter(Boolean) : value;
  }
  return camelInput(body, known);
}

/** The REST API's snake_case JSON routes: the procedures' inputs and results, renamed. */
const jsonRoutes: Record<string, (caller: ProcedureCaller, body: Body) => Promise<unknown>> = {
  'POST /api/compress': async (caller, body) =>
    toSnakeKeys(await caller.compress(camelInput(body, COMPRESS_FIELDS) as Input<'compress'>)),
  'POST /api/classify': async (caller, body) =>
    toSnakeKeys(await caller.classify(camelInput(body, CLASSIFY_FIELDS) as Input<'classify'>)),
  'GET /api/model-rankings': (caller) => caller.modelRankings(),
  'GET /api/usage': (caller, query) => caller.usage(query as Input<'usage'>),
  'DELETE /api/cache': (caller) => caller.purgeCache(),
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
  const iterator = events[Symbol.asyncIterator]();
  // Nothing is sent before the first event: a refusal (a rate limit, a budget) is answered with its status.
  const first = await iterator.next();
  const send = eventStreamResponse(res, slowConsumerTimeoutMs);
  try {
    for (let item = first; !item.done; item = await iterator.next()) await send(...toSse(item.value));
  } catch (error) {
    await send('error', errorBody(error).body);
  } finally {
    // Ends the procedure (and its upstream call) if the client left before the end.
    await iterator.return?.(undefined);
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
  if (key === 'GET /api/usage.csv') return csvExport(req, res, ctx);
  const jsonRoute = jsonRoutes[key];
  const streamRoute = streamRoutes[key];
  if (!jsonRoute && !streamRoute) return false;

  const caller = procedureCaller(ctx, res);
  try {
    const body =
      req.method === 'POST'
        ? await readJson(req, ctx.config.HTTP_MAX_BODY_BYTES)
        : key === 'GET /api/usage'
          ? queryInput(req.url, USAGE_FIELDS, ['group_by'])
          : {};
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

/**
 * GET /api/usage.csv: the calling key's request rows, filtered like
 * GET /api/usage, one CSV line each, written as the database pages them in
 * (and paused while the client is behind), never all held at once.
 */
async function csvExport(req: IncomingMessage, res: ServerResponse, ctx: HttpContext): Promise<boolean> {
  try {
    const rows = usageRows(ctx, queryInput(req.url, EXPORT_FIELDS));
    const lines = toCsvLines(rows)[Symbol.asyncIterator]();
    // The first line is read before the headers go out, so a database error is still answered as an error.
    const first = await lines.next();
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="tokenflow-usage-${ctx.principal.name}.csv"`,
      'cache-control': 'no-store',
    });
    for (let line = first; !line.done; line = await lines.next()) {
      if (res.destroyed) {
        await lines.return?.(undefined);
        break;
      }
      if (!res.write(line.value)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    }
    res.end();
  } catch (error) {
    const { status, body } = errorBody(error);
    if (!res.headersSent) sendJson(res, status, body);
    else res.destroy();
  }
  return true;
}
