import { TRPCError } from '@trpc/server';
import { costUsage } from '../accounting/cost.ts';
import type { Coalesce, StreamTimeouts } from '../providers/chat-stream.ts';
import { LOCAL_PROVIDER, type ProviderRegistry } from '../providers/registry.ts';
import { type Catalog, priceOf } from '../routing/catalog.ts';
import type { Needs } from '../routing/needs.ts';
import { streamAnswer } from './answer-stream.ts';
import { needsOf } from './chat-schema.ts';
import type { GenerateEvent } from './events.ts';
import { type GenerateInput, toMessages } from './input.ts';

export interface GenerateDeps {
  registry: ProviderRegistry;
  /** For the cost of providers that do not report one. */
  catalog: Catalog;
  timeouts: StreamTimeouts;
  requestId: string;
  signal: AbortSignal;
  coalesce?: Coalesce | undefined;
}

/** The local SmolLM2 model takes plain text chats only; say so rather than let it ignore the rest. */
function refuseForLocal(needs: Needs) {
  const missing = [
    needs.tools && 'tools or tool messages',
    needs.vision && 'images',
    needs.structuredOutputs && 'a json_schema response format',
    needs.jsonMode && 'a json_object response format',
  ].filter(Boolean);
  if (missing.length === 0) return;
  throw new TRPCError({
    code: 'BAD_REQUEST',
    message: `The local model answers plain text chats only; this request has ${missing.join(', ')}. Name a provider model that supports them, or use selectModel.`,
  });
}

/**
 * One generation as the events the client sees: metadata, then text,
 * reasoning and tool-call deltas, then exactly one `end`, or a TRPCError
 * saying why not.
 */
export async function* runGeneration(input: GenerateInput, deps: GenerateDeps): AsyncGenerator<GenerateEvent> {
  const target = deps.registry.resolve(input);
  const messages = toMessages(input);
  if (target.provider.name === LOCAL_PROVIDER) refuseForLocal(needsOf({ ...input, messages }));
  const answering = { provider: target.provider.name, model: target.model };
  yield { type: 'metadata', requestId: deps.requestId, ...answering };
  const outcome = yield* streamAnswer({
    target,
    messages,
    sampling: input,
    timeouts: deps.timeouts,
    signal: deps.signal,
    requestId: deps.requestId,
    coalesce: deps.coalesce,
  });
  if (!outcome) return;
  const usage = costUsage(outcome.usage, priceOf(deps.catalog, answering));
  const toolCalls = outcome.toolCalls.length > 0 ? { toolCalls: outcome.toolCalls } : {};
  yield { type: 'end', finishReason: outcome.finishReason, ...answering, usage, ...toolCalls };
}
