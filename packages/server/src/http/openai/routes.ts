import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { GenerateEvent, SelectModelEvent } from '../../generation/events.ts';
import type { GatewayContext } from '../../trpc.ts';
import { type HttpContext, plainEvents, procedureCaller } from '../call-procedure.ts';
import { readJson, sendJson, startEventStream } from '../respond.ts';
import { type AnswerEvent, chunkEncoder, completion, type EndEvent, type Routing, routingHeaders } from './chunks.ts';
import { openAiError } from './errors.ts';
import { AUTO_MODEL, type ChatCompletionRequest, parseChatCompletionRequest, toProcedureCall } from './request.ts';

type StreamEvent = GenerateEvent | SelectModelEvent;
type Answer = AnswerEvent | EndEvent;

/** When this gateway started, as the `created` of every listed model. */
const STARTED = Math.floor(Date.now() / 1000);

export function sendOpenAiError(res: ServerResponse, error: unknown) {
  const { status, headers, body } = openAiError(error);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJson(res, status, body);
}

/** `tokenflow/auto`, then every catalog model whose provider this gateway can call. */
function models(ctx: GatewayContext) {
  const routable = ctx.catalog.models.filter((m) => ctx.registry.isRoutable(m.provider));
  return [
    { id: AUTO_MODEL, object: 'model' as const, created: STARTED, owned_by: 'tokenflow' },
    ...routable.map((m) => ({
      id: `${m.provider}/${m.model}`,
      object: 'model' as const,
      created: STARTED,
      owned_by: m.provider,
    })),
  ];
}

/**
 * Reads a stream up to its first token (or its end): until then a fallback may
 * still change the model, and a failure can still be answered with a status.
 */
async function untilFirstAnswer(
  events: AsyncIterator<StreamEvent>,
): Promise<{ routing: Routing; first: Answer | null }> {
  let metadata: Routing['metadata'] | undefined;
  const fallbacks: Routing['fallbacks'] = [];
  for (;;) {
    const next = await events.next();
    const event = next.done ? null : next.value;
    if (event?.type === 'metadata') metadata = event;
    else if (event?.type === 'fallback') fallbacks.push(event);
    else {
      if (!metadata)
        throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'The stream ended before it began.' });
      return { routing: { metadata, fallbacks }, first: event };
    }
  }
}

/** The answer events from `first` on; nothing but answers follows the first token. */
async function* answers(first: Answer | null, events: AsyncIterator<StreamEvent>): AsyncGenerator<Answer> {
  for (let event: StreamEvent | null = first; event; ) {
    if (event.type !== 'metadata' && event.type !== 'fallback') yield event;
    const next = await events.next();
    event = next.done ? null : next.value;
  }
}

async function streamChunks(
  res: ServerResponse,
  request: ChatCompletionRequest,
  routing: Routing,
  stream: AsyncIterable<Answer>,
  slowConsumerTimeoutMs: number,
) {
  for (const [name, value] of Object.entries(routingHeaders(routing))) res.setHeader(name, value);
  const write = startEventStream(res, slowConsumerTimeoutMs);
  const send = (data: unknown) => write(`data: ${JSON.stringify(data)}\n\n`);
  const includeUsage = request.stream_options?.include_usage === true;
  const chunks = chunkEncoder(routing, { includeUsage, created: Math.floor(Date.now() / 1000) });
  try {
    await send(chunks.first());
    for await (const event of stream) {
      if (event.type === 'end') for (const chunk of chunks.end(event)) await send(chunk);
      else await send(chunks.answer(event));
    }
    await write('data: [DONE]\n\n');
  } catch (error) {
    // OpenAI's SDKs raise an APIError on a chunk that holds `error`.
    await send(openAiError(error).body);
  }
  res.end();
}

/** `stream: false`: the text and the reasoning, each joined, and the end event (with the assembled tool calls), as one completion. */
async function respondWhole(res: ServerResponse, routing: Routing, stream: AsyncIterable<Answer>) {
  let content = '';
  let reasoning = '';
  let end: EndEvent | null = null;
  for await (const event of stream) {
    if (event.type === 'text') content += event.text;
    else if (event.type === 'reasoning') reasoning += event.text;
    else if (event.type === 'end') end = event;
  }
  for (const [name, value] of Object.entries(routingHeaders(routing))) res.setHeader(name, value);
  sendJson(res, 200, completion(routing, { content, reasoning, end }, Math.floor(Date.now() / 1000)));
}

async function chatCompletion(req: IncomingMessage, res: ServerResponse, ctx: HttpContext) {
  const caller = procedureCaller(ctx, res);
  const request = parseChatCompletionRequest(await readJson(req, ctx.config.HTTP_MAX_BODY_BYTES));
  const call = toProcedureCall(request, req.headers['cache-control']);
  const stream: AsyncIterable<StreamEvent> =
    call.procedure === 'selectModel'
      ? plainEvents(await caller.selectModel(call.input))
      : plainEvents(await caller.generate(call.input));
  const events = stream[Symbol.asyncIterator]();
  try {
    const { routing, first } = await untilFirstAnswer(events);
    if (request.stream)
      await streamChunks(res, request, routing, answers(first, events), ctx.config.SLOW_CONSUMER_TIMEOUT_MS);
    else await respondWhole(res, routing, answers(first, events));
  } finally {
    // Ends the procedure (and its upstream call) if we stopped reading early.
    await events.return?.();
  }
}

/**
 * OpenAI's chat.completions and models API on top of the same procedures as
 * tRPC and REST (through procedureCaller), for any OpenAI SDK. Returns false for
 * paths it does not serve.
 */
export async function handleOpenAi(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: HttpContext,
): Promise<boolean> {
  if (req.method === 'GET' && path === '/v1/models') {
    sendJson(res, 200, { object: 'list', data: models(ctx) });
    return true;
  }
  if (req.method === 'GET' && path.startsWith('/v1/models/')) {
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    const model = models(ctx).find((m) => m.id === id);
    if (model) sendJson(res, 200, model);
    else sendOpenAiError(res, new TRPCError({ code: 'NOT_FOUND', message: `The model "${id}" is not served here.` }));
    return true;
  }
  if (req.method !== 'POST' || path !== '/v1/chat/completions') return false;

  try {
    await chatCompletion(req, res, ctx);
  } catch (error) {
    if (!res.headersSent) sendOpenAiError(res, error);
    else res.end();
  }
  return true;
}
