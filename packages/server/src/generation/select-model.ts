import { TRPCError } from '@trpc/server';
import { compressionSavings, costUsage } from '../accounting/cost.ts';
import type { RequestCache } from '../cache/response-cache.ts';
import { replay } from '../cache/stored-answer.ts';
import type { MlClient } from '../ml/client.ts';
import type { Coalesce, StreamTimeouts } from '../providers/chat-stream.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Catalog } from '../routing/catalog.ts';
import {
  type Candidate,
  estimateTokens,
  IMAGE_TOKENS,
  type RoutePolicy,
  route,
  TOOLS_CATEGORY,
} from '../routing/policy.ts';
import { streamAnswer } from './answer-stream.ts';
import { charsOf, imageCount, needsOf } from './chat-schema.ts';
import type { ModelRef, SelectModelEvent } from './events.ts';
import { type SelectModelInput, toMessages } from './input.ts';
import { preparePrompt } from './prepare-prompt.ts';

export interface SelectModelDeps {
  registry: ProviderRegistry;
  ml: MlClient;
  catalog: Catalog;
  policy: Omit<RoutePolicy, 'isConfigured'>;
  classifyTimeoutMs: number;
  timeouts: StreamTimeouts;
  requestId: string;
  signal: AbortSignal;
  coalesce?: Coalesce | undefined;
  /** This request's response cache, for semantic hits (exact ones are served before this runs). */
  cache?: RequestCache | null | undefined;
}

/** Failures that say nothing about the request itself, so another model may well succeed. */
const FALLBACK_CODES = new Set([
  'PRECONDITION_FAILED',
  'NOT_FOUND',
  'BAD_GATEWAY',
  'TOO_MANY_REQUESTS',
  'SERVICE_UNAVAILABLE',
  'GATEWAY_TIMEOUT',
  'TIMEOUT',
  'INTERNAL_SERVER_ERROR',
]);

const ref = (candidate: Candidate): ModelRef => ({ provider: candidate.provider, model: candidate.model });

/**
 * The product's core flow: classify (and compress) the prompt, rank the models
 * for its category, then stream from the first that answers. A candidate that
 * fails before its first token hands over to the next with a `fallback` event;
 * once tokens have flowed, a failure ends the stream rather than switch models.
 */
export async function* runSelectModel(
  input: SelectModelInput,
  deps: SelectModelDeps,
): AsyncGenerator<SelectModelEvent> {
  const prepared = await preparePrompt(input, toMessages(input), {
    ...deps,
    returnEmbedding: deps.cache?.wantsEmbedding ?? false,
  });
  if (deps.signal.aborted) return;
  const { classification } = prepared;
  // The classifier's embedding of the last user turn finds a similar earlier request's answer.
  const similar = await deps.cache?.similar(classification);
  if (similar) {
    yield* replay(
      similar.stored,
      deps.requestId,
      similar.hit,
      prepared.classificationMs,
    ) as Generator<SelectModelEvent>;
    return;
  }
  // Tool definitions and images are part of the prompt the model reads.
  const promptChars =
    prepared.messages.reduce((sum, m) => sum + charsOf(m), 0) + (input.tools ? JSON.stringify(input.tools).length : 0);
  const promptTokens = estimateTokens(promptChars) + imageCount(prepared.messages) * IMAGE_TOKENS;

  const routed = route(
    deps.catalog,
    {
      // A request with tools is function calling, whatever its text is about.
      category: input.tools ? TOOLS_CATEGORY : (classification?.topCategory ?? null),
      categoryFromTools: input.tools !== undefined,
      needs: needsOf({ ...input, messages: prepared.messages }),
      confidence: classification?.confidence ?? null,
      promptTokens: Math.max(promptTokens, 1),
      maxTokens: input.maxTokens,
      prefer: input.prefer,
      allowedProviders: input.allowedProviders,
      maxPricePerMTok: input.maxPricePerMTok,
    },
    { ...deps.policy, isConfigured: (provider) => deps.registry.isRoutable(provider) },
  );
  const [first] = routed.candidates;
  if (!first) {
    const why = [...new Set(routed.excluded.map((e) => e.why))].join('; ');
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message: `No model in the catalog can serve this request (category ${routed.category}): ${why || 'none listed'}.`,
    });
  }

  yield {
    type: 'metadata',
    requestId: deps.requestId,
    ...ref(first),
    category: routed.category,
    confidence: classification?.confidence ?? null,
    scores: classification?.labels ?? [],
    classification: input.tools ? 'skipped' : classification ? 'ok' : 'unavailable',
    routing: routed.reason,
    candidates: routed.candidates.map(ref),
    compression: prepared.compression,
    classificationMs: prepared.classificationMs,
    compressionMs: prepared.compressionMs,
    notes: prepared.notes,
  };

  for (const [index, candidate] of routed.candidates.entries()) {
    const next = routed.candidates[index + 1];
    let tokensFlowed = false;
    try {
      const answer = streamAnswer({
        target: deps.registry.resolve(ref(candidate)),
        messages: prepared.messages,
        sampling: input,
        timeouts: deps.timeouts,
        signal: deps.signal,
        requestId: deps.requestId,
        coalesce: deps.coalesce,
      });
      let step = await answer.next();
      while (!step.done) {
        tokensFlowed = true;
        yield step.value;
        step = await answer.next();
      }
      if (step.value) {
        // Priced at the model that answered, which after a fallback is not the first candidate.
        const { finishReason, usage, toolCalls } = step.value;
        yield {
          type: 'end',
          finishReason,
          ...ref(candidate),
          usage: costUsage(usage, candidate.price),
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
          savings: compressionSavings(prepared.compression, candidate.price),
        };
      }
      return;
    } catch (error) {
      const code = error instanceof TRPCError ? error.code : 'INTERNAL_SERVER_ERROR';
      if (tokensFlowed || !next || !FALLBACK_CODES.has(code) || deps.signal.aborted) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      yield { type: 'fallback', from: ref(candidate), to: ref(next), reason, code };
    }
  }
}
