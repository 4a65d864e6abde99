import { TRPCError } from '@trpc/server';
import { type StreamTimeouts, streamChat } from '../providers/chat-stream.ts';
import type { ProviderTarget } from '../providers/registry.ts';
import type { AnswerEvent, Usage } from './events.ts';
import type { ChatMessage } from './input.ts';

export interface Sampling {
  temperature?: number | undefined;
  topP?: number | undefined;
  maxTokens?: number | undefined;
  stop?: string | string[] | undefined;
}

export interface AnswerRequest {
  target: ProviderTarget;
  messages: ChatMessage[];
  sampling: Sampling;
  timeouts: StreamTimeouts;
  signal: AbortSignal;
}

export interface AnswerOutcome {
  finishReason: string;
  usage: Usage | null;
}

/**
 * One model's answer as text and reasoning events. Returns how it finished
 * (null when the caller went away) or throws a TRPCError saying why not.
 */
export async function* streamAnswer(request: AnswerRequest): AsyncGenerator<AnswerEvent, AnswerOutcome | null> {
  const { target, sampling, signal } = request;
  let finishReason: string | null = null;
  let usage: Usage | null = null;
  const deltas = streamChat({
    target,
    timeouts: request.timeouts,
    signal,
    body: {
      messages: request.messages,
      temperature: sampling.temperature,
      top_p: sampling.topP,
      max_tokens: sampling.maxTokens,
      stop: sampling.stop,
    },
  });
  for await (const delta of deltas) {
    if (delta.type === 'finish') finishReason = delta.reason;
    else if (delta.type === 'usage') usage = delta.usage;
    else yield delta;
  }
  if (signal.aborted) return null;
  if (finishReason === null) {
    // A stream that just stops may have lost the rest of the answer: say so.
    throw new TRPCError({
      code: 'BAD_GATEWAY',
      message: `Provider "${target.provider.name}" ended the stream without a finish reason; the answer may be incomplete.`,
    });
  }
  return { finishReason, usage };
}
