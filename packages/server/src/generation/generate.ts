import { TRPCError } from '@trpc/server';
import { type StreamTimeouts, streamChat } from '../providers/chat-stream.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { GenerateEvent, Usage } from './events.ts';
import { type GenerateInput, toMessages } from './input.ts';

export interface GenerateDeps {
  registry: ProviderRegistry;
  timeouts: StreamTimeouts;
  requestId: string;
  signal: AbortSignal;
}

/**
 * One generation as the events the client sees: metadata, then text and
 * reasoning deltas, then exactly one `end`, or a TRPCError saying why not.
 */
export async function* runGeneration(input: GenerateInput, deps: GenerateDeps): AsyncGenerator<GenerateEvent> {
  const target = deps.registry.resolve(input);
  yield { type: 'metadata', requestId: deps.requestId, provider: target.provider.name, model: target.model };

  let finishReason: string | null = null;
  let usage: Usage | null = null;
  const deltas = streamChat({
    target,
    timeouts: deps.timeouts,
    signal: deps.signal,
    body: {
      messages: toMessages(input),
      temperature: input.temperature,
      top_p: input.topP,
      max_tokens: input.maxTokens,
      stop: input.stop,
    },
  });
  for await (const delta of deltas) {
    if (delta.type === 'finish') finishReason = delta.reason;
    else if (delta.type === 'usage') usage = delta.usage;
    else yield delta;
  }
  if (deps.signal.aborted) return;
  if (finishReason === null) {
    // A stream that just stops may have lost the rest of the answer: say so.
    throw new TRPCError({
      code: 'BAD_GATEWAY',
      message: `Provider "${target.provider.name}" ended the stream without a finish reason; the answer may be incomplete.`,
    });
  }
  yield { type: 'end', finishReason, usage };
}
