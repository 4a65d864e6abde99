import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTrackedEnvelope, TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { causeDetails } from '../limits/refusal.ts';
import { appRouter } from '../router/index.ts';
import { createCallerFactory, type GatewayContext, publicMessage } from '../trpc.ts';
import { eventStreamResponse, readJson, sendJson } from './respond.ts';

const createCaller = createCallerFactory(appRouter);
type Caller = ReturnType<typeof createCaller>;
type Body = Record<string, unknown>;

function errorBody(error: unknown) {
  const trpc = error instanceof TRPCError ? error : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: error });
  const { upstream, retryAfterMs } = causeDetails(trpc.cause);
  return {
    status: getHTTPStatusCodeFromError(trpc),
    body: { code: trpc.code, message: publicMessage(trpc), upstream, retryAfterMs },
  };
}

/** The REST API's snake_case bodies, mapped onto the procedures' inputs and back. */
const jsonRoutes: Record<string, (caller: Caller, body: Body) => Promise<unknown>> = {
  'POST /api/compress': async (caller, b) => {
    const r = await caller.compress({
      text: b.text as string,
      ratio: b.ratio as number,
      targetTokens: b.target_tokens as number | undefined,
      forceTokens: b.force_tokens as string[] | undefined,
      forceReserveDigit: b.force_reserve_digit as boolean | undefined,
      preserve: b.preserve as boolean | undefined,
      dropConsecutive: b.drop_consecutive as boolean | undefined,
      question: b.question as string | undefined,
    });
    return {
      compressed_text: r.compressedText,
      origin_tokens: r.originTokens,
      compressed_tokens: r.compressedTokens,
      ratio: r.ratio,
      saving_percent: r.savingPercent,
      method: r.method,
      model: r.model,
      elapsed_ms: r.elapsedMs,
    };
  },
  'POST /api/classify': async (caller, b) => {
    const r = await caller.classify({
      prompt: b.prompt as string,
      possibleCategories: b.possible_categories as string[] | null | undefined,
      multiLabel: (b.multi_label as boolean | undefined) ?? false,
    });
    return {
      labels: r.labels,
      top_category: r.topCategory,
      confidence: r.confidence,
      backend: r.backend,
      model: r.model,
      elapsed_ms: r.elapsedMs,
    };
  },
  'GET /api/model-rankings': (caller) => caller.modelRankings(),
  'GET /api/usage': (caller) => caller.usage(),
};

/** The snake_case fields each JSON route maps; anything else is refused, as the procedures refuse unknown fields. */
const jsonFields: Record<string, string[]> = {
  'POST /api/compress': [
    'text',
    'ratio',
    'target_tokens',
    'force_tokens',
    'force_reserve_digit',
    'preserve',
    'drop_consecutive',
    'question',
  ],
  'POST /api/classify': ['prompt', 'possible_categories', 'multi_label'],
};

function refuseUnknownFields(key: string, body: Body) {
  const known = jsonFields[key];
  const unknown = known ? Object.keys(body).filter((field) => !known.includes(field)) : [];
  if (unknown.length > 0) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `Invalid input: unknown field(s) ${unknown.map((f) => `"${f}"`).join(', ')}; expected ${known?.join(', ')}.`,
    });
  }
}

const streamRoutes: Record<string, (caller: Caller, body: Body) => Promise<AsyncIterable<unknown>>> = {
  'POST /api/generate': (caller, b) => caller.generate(b as Parameters<Caller['generate']>[0]),
  'POST /api/models/select': (caller, b) => caller.selectModel(b as Parameters<Caller['selectModel']>[0]),
};

/** Our events under the REST API's SSE event names (those it has always sent, then ours). */
function toSse(event: { type: string } & Record<string, unknown>): [string, unknown] {
  const { type, ...data } = event;
  switch (type) {
    case 'text':
      return ['text_chunk', data];
    case 'reasoning':
      return ['reasoning_chunk', data];
    case 'end':
      return ['end_stream', data];
    default:
      return [type, data];
  }
}

async function stream(res: ServerResponse, events: AsyncIterable<unknown>, slowConsumerTimeoutMs: number) {
  const send = eventStreamResponse(res, slowConsumerTimeoutMs);
  try {
    for await (const item of events) {
      const event = (isTrackedEnvelope(item) ? item[1] : item) as { type: string } & Record<string, unknown>;
      await send(...toSse(event));
    }
  } catch (error) {
    await send('error', errorBody(error).body);
  }
  res.end();
}

/**
 * The REST + SSE API (`/api/*`) for clients that do not speak tRPC: each route
 * calls a procedure through `createCaller` and only translates shapes.
 * Returns false for paths it does not serve.
 */
export async function handleRest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: GatewayContext,
): Promise<boolean> {
  const key = `${req.method} ${path}`;
  const jsonRoute = jsonRoutes[key];
  const streamRoute = streamRoutes[key];
  if (!jsonRoute && !streamRoute) return false;

  // A client that disconnects aborts the ML calls and the upstream stream.
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  const caller = createCaller(ctx, { signal: controller.signal });
  try {
    const body = req.method === 'POST' ? await readJson(req, ctx.config.HTTP_MAX_BODY_BYTES) : {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'The body must be a JSON object.' });
    }
    if (jsonRoute) {
      refuseUnknownFields(key, body as Body);
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
