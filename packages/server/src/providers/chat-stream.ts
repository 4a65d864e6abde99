import { setTimeout as sleep } from 'node:timers/promises';
import { TRPCError } from '@trpc/server';
import { APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { ToolCallDelta, Usage } from '../generation/events.ts';
import { endSpan, SpanKind, startSpan } from '../telemetry/tracing.ts';
import { toTRPCError, UpstreamFailure } from './errors.ts';
import type { ProviderTarget } from './registry.ts';
import { retryDelay } from './retry.ts';
import { type ServerSentEvent, SseDecoder } from './sse-decoder.ts';
import { StreamWatchdog } from './watchdog.ts';

export type ChatDelta =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | ToolCallDelta
  | { type: 'finish'; reason: string }
  | { type: 'usage'; usage: Usage };

/**
 * Asked once per network read, true while the client has not read what was
 * already sent to it (its transport says so: GatewayContext.clientBehind).
 * Then consecutive text (or reasoning) deltas that arrived together are relayed
 * as one, their text joined in order; otherwise each upstream delta stays an
 * event of its own.
 */
export type Coalesce = () => boolean;

export interface StreamTimeouts {
  /** From the request until the first text, reasoning or tool-call token. */
  firstTokenMs: number;
  /** Between two chunks once tokens flow. */
  idleMs: number;
}

export interface ChatStreamRequest {
  target: ProviderTarget;
  body: Omit<ChatCompletionCreateParamsStreaming, 'model' | 'stream' | 'stream_options'>;
  timeouts: StreamTimeouts;
  signal: AbortSignal;
  requestId?: string | undefined;
  coalesce?: Coalesce | undefined;
}

/** Fields real providers add to the OpenAI chunk shape. */
type ProviderChunk = ChatCompletionChunk & {
  x_groq?: { usage?: RawUsage };
  usage?: RawUsage | null;
};
type RawUsage = { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; cost?: number };
type ProviderDelta = {
  content?: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
  tool_calls?: Array<{
    index?: number;
    id?: string | null;
    function?: { name?: string | null; arguments?: string | null };
  }>;
};

function readUsage(chunk: ProviderChunk): Usage | null {
  // OpenRouter sends `usage` (with `cost`) in a chunk of its own after the
  // finish_reason chunk; Groq puts it in `x_groq.usage` on the finish chunk.
  const raw = chunk.usage ?? chunk.x_groq?.usage;
  if (!raw) return null;
  const promptTokens = raw.prompt_tokens ?? 0;
  const completionTokens = raw.completion_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: raw.total_tokens ?? promptTokens + completionTokens,
    costUsd: typeof raw.cost === 'number' ? raw.cost : null,
  };
}

const NO_CALLS: NonNullable<ProviderDelta['tool_calls']> = [];

function* readChunk(chunk: ProviderChunk): Generator<ChatDelta> {
  for (const choice of chunk.choices ?? []) {
    const delta = (choice.delta ?? {}) as ProviderDelta;
    const reasoning = delta.reasoning ?? delta.reasoning_content;
    if (reasoning) yield { type: 'reasoning', text: reasoning };
    if (delta.content) yield { type: 'text', text: delta.content };
    // One event per upstream fragment, in order, empty ones too: a call's id and name come
    // only on its first fragment, and nothing here may merge, drop or invent one.
    // Most chunks carry no tool calls: no iterator for them on the hot path.
    const calls = delta.tool_calls ?? NO_CALLS;
    for (let position = 0; position < calls.length; position += 1) {
      const call = calls[position];
      if (!call) continue;
      yield {
        type: 'toolCall',
        // OpenAI always sends `index`; a provider that leaves it out sends each call whole in its
        // own entry, so the entry's position is the call's index (what the OpenAI SDKs assume too).
        index: call.index ?? position,
        ...(call.id ? { id: call.id } : {}),
        ...(call.function?.name ? { name: call.function.name } : {}),
        argumentsDelta: call.function?.arguments ?? '',
      };
    }
    if (choice.finish_reason) yield { type: 'finish', reason: choice.finish_reason };
  }
  const usage = readUsage(chunk);
  if (usage) yield { type: 'usage', usage };
}

type TextDelta = Extract<ChatDelta, { type: 'text' | 'reasoning' }>;

/**
 * The deltas the events of one network read carry, read as the openai SDK
 * reads a stream: nothing after [DONE], and a chunk that carries `error` is the
 * provider's error. A failure comes back beside the deltas before it, so those
 * are still relayed, in order, before it is thrown.
 */
function readDeltas(
  events: ServerSentEvent[],
  progress: { done: boolean },
  headers: Headers,
  coalesce: boolean,
): { deltas: ChatDelta[]; failure: { error: unknown } | null } {
  const deltas: ChatDelta[] = [];
  try {
    for (const sse of events) {
      if (progress.done) break;
      if (sse.data.startsWith('[DONE]')) {
        progress.done = true;
        break;
      }
      const chunk = JSON.parse(sse.data) as ProviderChunk & { error?: unknown };
      if (chunk?.error) throw new APIError(undefined, chunk.error as object, undefined, headers);
      if (sse.event?.startsWith('thread.')) continue; // the Assistants API's events, not chat chunks
      for (const delta of readChunk(chunk)) {
        const last = deltas[deltas.length - 1];
        if (coalesce && last?.type === delta.type && (delta.type === 'text' || delta.type === 'reasoning')) {
          (last as TextDelta).text += delta.text;
        } else deltas.push(delta);
      }
    }
    return { deltas, failure: null };
  } catch (error) {
    return { deltas, failure: { error } };
  }
}

function truncated(provider: string) {
  const message = `Provider "${provider}" ended the stream without a finish reason; the answer may be incomplete.`;
  const details = { provider, status: null, retryAfterMs: null };
  return new TRPCError({ code: 'BAD_GATEWAY', message, cause: new UpstreamFailure(message, details, 'stream') });
}

/**
 * One request to the provider, through its circuit breaker, with the
 * connect, first-token and idle timeouts. Ends quietly when `signal` aborts.
 */
async function* streamOnce({
  target,
  body,
  timeouts,
  signal,
  requestId,
  coalesce,
}: ChatStreamRequest): AsyncGenerator<ChatDelta> {
  const { provider, model } = target;
  if (signal.aborted) return;
  const lease = provider.breaker.admit();
  const span = startSpan(`provider ${provider.name}`, SpanKind.CLIENT, {
    'tokenflow.provider': provider.name,
    'tokenflow.model': model,
  });
  let spanError: unknown;
  const upstream = new AbortController();
  const forwardAbort = () => upstream.abort(signal.reason);
  signal.addEventListener('abort', forwardAbort, { once: true });

  const { connectTimeoutMs } = provider.policy;
  const connect = new StreamWatchdog(provider.name, (error) => upstream.abort(error));
  connect.arm(
    connectTimeoutMs,
    `Provider "${provider.name}" did not answer with response headers within ${connectTimeoutMs} ms (UPSTREAM_CONNECT_TIMEOUT_MS).`,
  );
  const watchdog = new StreamWatchdog(provider.name, (error) => upstream.abort(error));
  const idleMessage = `Provider "${provider.name}" sent nothing for ${timeouts.idleMs} ms in the middle of the stream (GENERATE_IDLE_TIMEOUT_MS).`;
  watchdog.arm(
    timeouts.firstTokenMs,
    `No token from provider "${provider.name}" within ${timeouts.firstTokenMs} ms (GENERATE_FIRST_TOKEN_TIMEOUT_MS).`,
  );
  const expired = () => connect.expired ?? watchdog.expired;

  let responding = false;
  let finished = false;
  try {
    const response = await provider.client.streamChatCompletion(
      { ...body, model, stream: true, stream_options: { include_usage: true } },
      // The request id lets the local provider (the ML service) log under the gateway's id.
      { signal: upstream.signal, headers: requestId ? { 'x-request-id': requestId } : undefined },
    );
    connect.stop();
    responding = true;
    let tokensFlowing = false;
    const progress = { done: false };
    const decoder = new SseDecoder();
    for await (const bytes of response.body) {
      // Chunks already read would still come after an abort (the deadline may
      // pass while the consumer holds the stream): stop here.
      if (upstream.signal.aborted) break;
      const events = decoder.push(bytes);
      // Only a whole event counts as the provider speaking: comments (": keep-alive") and
      // half an event do not hold off the idle timeout.
      if (events.length === 0) continue;
      if (tokensFlowing) watchdog.arm(timeouts.idleMs, idleMessage);
      const read = readDeltas(events, progress, response.headers, coalesce?.() === true);
      for (const delta of read.deltas) {
        if (upstream.signal.aborted) break;
        if (!tokensFlowing && (delta.type === 'text' || delta.type === 'reasoning' || delta.type === 'toolCall')) {
          tokensFlowing = true;
          lease.progress();
          watchdog.arm(timeouts.idleMs, idleMessage);
        }
        if (delta.type === 'finish') finished = true;
        watchdog.pause();
        yield delta;
        watchdog.resume();
      }
      if (read.failure) throw read.failure.error;
    }
    const timedOut = expired();
    if (timedOut) throw timedOut;
    if (signal.aborted) return;
    // A stream that just stops may have lost the rest of the answer: say so.
    if (!finished) throw truncated(provider.name);
    lease.succeed();
  } catch (error) {
    // Reading an aborted response throws an AbortError: a timeout, or the caller left.
    const timedOut = expired();
    if (!timedOut && signal.aborted) return;
    const failure =
      timedOut ??
      toTRPCError(error, { provider: provider.name, model, secrets: [provider.client.apiKey], midStream: responding });
    lease.fail(failure);
    spanError = failure;
    throw failure;
  } finally {
    endSpan(span, spanError);
    connect.stop();
    watchdog.stop();
    signal.removeEventListener('abort', forwardAbort);
    // Closes the upstream socket when the consumer stops early; a no-op after a full stream.
    upstream.abort();
    // Not reported above: the caller left, which counts neither way.
    lease.release();
  }
}

/**
 * Streams one chat completion as normalized deltas. Ends quietly when `signal`
 * aborts (the caller left, the upstream request is aborted with it) and throws
 * a TRPCError for every other way a stream can fail, timeouts included.
 *
 * A failure before anything was yielded is retried when retry.ts says it may
 * go away (never once a delta reached the consumer: it would see text twice).
 * The total time limit runs on the wall clock over all of it.
 */
export async function* streamChat(request: ChatStreamRequest): AsyncGenerator<ChatDelta> {
  const { provider } = request.target;
  const { retry, totalTimeoutMs } = provider.policy;
  const deadline = new AbortController();
  const total = new StreamWatchdog(provider.name, (error) => deadline.abort(error), 'deadline');
  total.arm(
    totalTimeoutMs,
    `The answer from provider "${provider.name}" took longer than ${totalTimeoutMs} ms in all (GENERATE_TOTAL_TIMEOUT_MS).`,
  );
  const signal = AbortSignal.any([request.signal, deadline.signal]);
  let firstFailureAt: number | null = null;
  try {
    for (let retriesDone = 0; ; retriesDone += 1) {
      let yielded = false;
      try {
        for await (const delta of streamOnce({ ...request, signal })) {
          yielded = true;
          yield delta;
        }
        break;
      } catch (error) {
        if (total.expired) throw total.expired;
        firstFailureAt ??= Date.now();
        const delay = yielded
          ? null
          : retryDelay(error, retry, { retriesDone, elapsedMs: Date.now() - firstFailureAt });
        if (delay === null) throw error;
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          break; // aborted while waiting: the caller left, or the deadline passed (below)
        }
      }
    }
  } finally {
    total.stop();
  }
  if (total.expired) throw total.expired;
}
