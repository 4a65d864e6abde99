import { costUsage } from '../accounting/cost.ts';
import type { StreamTimeouts } from '../providers/chat-stream.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { type Catalog, priceOf } from '../routing/catalog.ts';
import { streamAnswer } from './answer-stream.ts';
import type { GenerateEvent } from './events.ts';
import { type GenerateInput, toMessages } from './input.ts';

export interface GenerateDeps {
  registry: ProviderRegistry;
  /** For the cost of providers that do not report one. */
  catalog: Catalog;
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
  const answering = { provider: target.provider.name, model: target.model };
  yield { type: 'metadata', requestId: deps.requestId, ...answering };
  const outcome = yield* streamAnswer({
    target,
    messages: toMessages(input),
    sampling: input,
    timeouts: deps.timeouts,
    signal: deps.signal,
    requestId: deps.requestId,
  });
  if (!outcome) return;
  const usage = costUsage(outcome.usage, priceOf(deps.catalog, answering));
  yield { type: 'end', finishReason: outcome.finishReason, ...answering, usage };
}
