import { type Coalesce, type StreamTimeouts, streamChat } from '../providers/chat-stream.ts';
import type { ProviderTarget } from '../providers/registry.ts';
import type { ChatMessage, Protocol } from './chat-schema.ts';
import type { AnswerEvent, AssembledToolCall, Usage } from './events.ts';
import { toProviderMessage, toProviderOptions } from './provider-request.ts';
import { addToolCallDelta } from './tool-calls.ts';

export interface Sampling extends Protocol {
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
  coalesce?: Coalesce | undefined;
}

export interface AnswerOutcome {
  finishReason: string;
  usage: Usage | null;
  toolCalls: AssembledToolCall[];
}

/**
 * One model's answer as text, reasoning and tool-call events, each relayed as
 * it arrives. Returns how it finished (null when the caller went away) or
 * throws a TRPCError saying why not.
 */
export async function* streamAnswer(request: AnswerRequest): AsyncGenerator<AnswerEvent, AnswerOutcome | null> {
  const { target, sampling, signal } = request;
  let finishReason: string | null = null;
  let usage: Usage | null = null;
  let toolCalls: AssembledToolCall[] = [];
  const deltas = streamChat({
    target,
    timeouts: request.timeouts,
    signal,
    requestId: request.requestId,
    coalesce: request.coalesce,
    body: {
      messages: request.messages.map(toProviderMessage),
      temperature: sampling.temperature,
      top_p: sampling.topP,
      max_tokens: sampling.maxTokens,
      stop: sampling.stop,
      ...toProviderOptions(sampling),
    },
  });
  for await (const delta of deltas) {
    if (delta.type === 'finish') finishReason = delta.reason;
    else if (delta.type === 'usage') usage = delta.usage;
    else {
      if (delta.type === 'toolCall') toolCalls = addToolCallDelta(toolCalls, delta);
      yield delta;
    }
  }
  // streamChat throws for a stream that ends without a finish reason, so a
  // missing one here means the caller left.
  if (signal.aborted || finishReason === null) return null;
  return { finishReason, usage, toolCalls };
}
