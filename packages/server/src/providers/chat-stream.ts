import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { Usage } from '../generation/events.ts';
import { toTRPCError } from './errors.ts';
import type { ProviderTarget } from './registry.ts';
import { StreamWatchdog } from './watchdog.ts';

export type ChatDelta =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'finish'; reason: string }
  | { type: 'usage'; usage: Usage };

export interface StreamTimeouts {
  /** From the request until the first text or reasoning token. */
  firstTokenMs: number;
  /** Between two chunks once tokens flow. */
  idleMs: number;
}

export interface ChatStreamRequest {
  target: ProviderTarget;
  body: Omit<ChatCompletionCreateParamsStreaming, 'model' | 'stream' | 'stream_options'>;
  timeouts: StreamTimeouts;
  signal: AbortSignal;
}

/** Fields real providers add to the OpenAI chunk shape. */
type ProviderChunk = ChatCompletionChunk & {
  x_groq?: { usage?: RawUsage };
  usage?: RawUsage | null;
};
type RawUsage = { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; cost?: number };
type ProviderDelta = { content?: string | null; reasoning?: string | null; reasoning_content?: string | null };

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

function* readChunk(chunk: ProviderChunk): Generator<ChatDelta> {
  for (const choice of chunk.choices ?? []) {
    const delta = (choice.delta ?? {}) as ProviderDelta;
    const reasoning = delta.reasoning ?? delta.reasoning_content;
    if (reasoning) yield { type: 'reasoning', text: reasoning };
    if (delta.content) yield { type: 'text', text: delta.content };
    if (choice.finish_reason) yield { type: 'finish', reason: choice.finish_reason };
  }
  const usage = readUsage(chunk);
  if (usage) yield { type: 'usage', usage };
}

/**
 * Streams one chat completion as normalized deltas. Ends quietly when `signal`
 * aborts (the caller left, the upstream request is aborted with it) and throws
 * a TRPCError for every other way a stream can fail, timeouts included.
 */
export async function* streamChat({ target, body, timeouts, signal }: ChatStreamRequest): AsyncGenerator<ChatDelta> {
  const { provider, model } = target;
  const upstream = new AbortController();
  const forwardAbort = () => upstream.abort(signal.reason);
  signal.addEventListener('abort', forwardAbort, { once: true });

  const watchdog = new StreamWatchdog(provider.name, (error) => upstream.abort(error));
  const armIdle = () =>
    watchdog.arm(
      timeouts.idleMs,
      `Provider "${provider.name}" sent nothing for ${timeouts.idleMs} ms in the middle of the stream (GENERATE_IDLE_TIMEOUT_MS).`,
    );
  watchdog.arm(
    timeouts.firstTokenMs,
    `No token from provider "${provider.name}" within ${timeouts.firstTokenMs} ms (GENERATE_FIRST_TOKEN_TIMEOUT_MS).`,
  );

  let responding = false;
  try {
    if (signal.aborted) return;
    const stream = await provider.client.chat.completions.create(
      { ...body, model, stream: true, stream_options: { include_usage: true } },
      { signal: upstream.signal },
    );
    responding = true;
    let tokensFlowing = false;
    for await (const chunk of stream) {
      if (tokensFlowing) armIdle();
      for (const delta of readChunk(chunk as ProviderChunk)) {
        if (!tokensFlowing && (delta.type === 'text' || delta.type === 'reasoning')) {
          tokensFlowing = true;
          armIdle();
        }
        watchdog.pause();
        yield delta;
        watchdog.resume();
      }
    }
  } catch (error) {
    if (watchdog.expired) throw watchdog.expired;
    if (signal.aborted) return;
    throw toTRPCError(error, {
      provider: provider.name,
      model,
      secrets: [provider.client.apiKey],
      midStream: responding,
    });
  } finally {
    watchdog.stop();
    signal.removeEventListener('abort', forwardAbort);
    // Closes the upstream socket when the consumer stops early; a no-op after a full stream.
    upstream.abort();
  }
  // The SDK ends the iteration without an error when its request is aborted.
  if (watchdog.expired) throw watchdog.expired;
}
