import { boundedByBudget, estimatePromptTokens, worstCase } from '../budgets/worst-case.ts';
import { throughCache } from '../cache/cached-stream.ts';
import { runGeneration } from '../generation/generate.ts';
import { generateInputSchema } from '../generation/input.ts';
import { priceOf } from '../routing/catalog.ts';
import { publicProcedure } from '../trpc.ts';
import { eventStream } from './event-stream.ts';

export const generate = publicProcedure.input(generateInputSchema).subscription(({ input: asked, ctx, signal }) => {
  const input = boundedByBudget(asked, ctx);
  return eventStream(
    'generate',
    {
      ctx,
      signal,
      lastEventId: input.lastEventId,
      estimate: () => {
        // An unknown provider is refused by runGeneration itself, with its own message.
        const target = (() => {
          try {
            return ctx.registry.resolve(input);
          } catch {
            return null;
          }
        })();
        const price = target
          ? priceOf(ctx.catalog, { provider: target.provider.name, model: target.model })
          : undefined;
        const maxTokens = input.maxTokens ?? ctx.config.ROUTING_DEFAULT_MAX_TOKENS;
        return worstCase(estimatePromptTokens(input), maxTokens, [price]);
      },
    },
    (scope) =>
      throughCache(ctx.cache?.forRequest('generate', ctx.principal.name, input) ?? null, scope.requestId, () =>
        runGeneration(input, { registry: ctx.registry, catalog: ctx.catalog, ...scope }),
      ),
  );
});
