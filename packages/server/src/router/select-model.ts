import { boundedByBudget, estimatePromptTokens, routablePrices, worstCase } from '../budgets/worst-case.ts';
import { throughCache } from '../cache/cached-stream.ts';
import { selectModelInputSchema } from '../generation/input.ts';
import { runSelectModel } from '../generation/select-model.ts';
import { publicProcedure } from '../trpc.ts';
import { eventStream } from './event-stream.ts';

export const selectModel = publicProcedure
  .input(selectModelInputSchema)
  .subscription(({ input: asked, ctx, signal }) => {
    const input = boundedByBudget(asked, ctx);
    return eventStream(
      'selectModel',
      {
        ctx,
        signal,
        lastEventId: input.lastEventId,
        // Checked before routing, so at the dearest model routing may pick for this request.
        estimate: () =>
          worstCase(
            estimatePromptTokens(input),
            input.maxTokens ?? ctx.config.ROUTING_DEFAULT_MAX_TOKENS,
            routablePrices(ctx.catalog, input),
          ),
      },
      (scope) => {
        const cache = ctx.cache?.forRequest('selectModel', ctx.principal.name, input) ?? null;
        return throughCache(cache, scope.requestId, () =>
          runSelectModel(input, {
            registry: ctx.registry,
            ml: ctx.ml,
            catalog: ctx.catalog,
            policy: {
              confidenceThreshold: ctx.config.ROUTING_CONFIDENCE_THRESHOLD,
              defaultMaxTokens: ctx.config.ROUTING_DEFAULT_MAX_TOKENS,
            },
            classifyTimeoutMs: ctx.config.ROUTING_CLASSIFY_TIMEOUT_MS,
            cache,
            ...scope,
          }),
        );
      },
    );
  });
