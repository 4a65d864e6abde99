import { type StreamTimeouts, streamChat } from '../providers/chat-stream.ts';
import type { ProviderTarget } from '../providers/registry.ts';
import type { ChatMessage, Protocol } from './chat-schema.ts';
import type { AnswerEvent, AssembledToolCall, ToolCallDelta, Usage } from './events.ts';
import { toProviderMessage, toProviderOptions } from './provider-request.ts';

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
}

export interface AnswerOutcome {
  finishReason: string;
  usage: Usage | null;
  toolCalls: AssembledToolCall[];
}

/**
 * Tool calls put together from their fragments, as the official OpenAI
 * clients do: the id from the first fragment that has one, name and
 * arguments concatenated, calls in index order.
 */
export class ToolCallAssembler {
  private readonly calls = new Map<number, AssembledToolCall>();

  add(delta: ToolCallDelta) {
    const call = this.calls.get(delta.index) ?? { index: delta.index, id: '', name: '', arguments: '' };
    if (delta.id && !call.id) call.id = delta.id;
    if (delta.name) call.name += delta.name;
    call.arguments += delta.argumentsDelta;
    this.calls.set(delta.index, call);
  }

  result(): AssembledToolCall[] {
    return [...this.calls.values()].sort((a, b) => a.index - b.index);
  }
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
  const toolCalls = new ToolCallAssembler();
  const deltas = streamChat({
    target,
    timeouts: request.timeouts,
    signal,
    requestId: request.requestId,
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
      if (delta.type === 'toolCall') toolCalls.add(delta);
      yield delta;
    }
  }
  // streamChat throws for a stream that ends without a finish reason, so a
  // missing one here means the caller left.
  if (signal.aborted || finishReason === null) return null;
  return { finishReason, usage, toolCalls: toolCalls.result() };
}
