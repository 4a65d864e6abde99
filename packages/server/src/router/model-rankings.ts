import { publicProcedure } from '../trpc.ts';

/** The catalog as the routing policy sees it: per category, the ranked models and whether they can be used. */
export const modelRankings = publicProcedure.query(({ ctx }) => {
  const categories = [...new Set(ctx.catalog.models.flatMap((m) => Object.keys(m.categories)))].sort();
  return {
    defaultCategory: ctx.catalog.defaultCategory,
    categories: Object.fromEntries(
      categories.map((category) => [
        category,
        ctx.catalog.models
          .filter((m) => m.categories[category] !== undefined)
          .sort((a, b) => (a.categories[category] ?? 0) - (b.categories[category] ?? 0))
          .map((m) => ({
            rank: m.categories[category] ?? 0,
            provider: m.provider,
            model: m.model,
            available: ctx.registry.isRoutable(m.provider),
            contextWindow: m.contextWindow,
            price: m.price,
            tokensPerSecond: m.tokensPerSecond ?? null,
            supportsReasoning: m.supportsReasoning,
            supportsTools: m.supportsTools,
            supportsVision: m.supportsVision,
            supportsStructuredOutputs: m.supportsStructuredOutputs,
            supportsJsonMode: m.supportsJsonMode,
          })),
      ]),
    ),
  };
});
