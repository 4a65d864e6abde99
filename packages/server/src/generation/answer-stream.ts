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
  /** Sent to the provider as `x-request-id`: the local provider logs it, others may. */
  requestId?: string | undefined;
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
    requestId: request.requestId,
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
  // streamChat throws for a stream that ends without a finish reason, so a
  // missing one here means the caller left.
  if (signal.aborted || finishReason === null) return null;
  return { finishReason, usage };
}
