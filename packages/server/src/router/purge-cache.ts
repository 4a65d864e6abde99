import { TRPCError } from '@trpc/server';
import { retryLater } from '../limits/refusal.ts';
import { limitedProcedure } from '../trpc.ts';

/**
 * Forgets every answer the response cache holds for the calling key (for
 * every key when CACHE_SCOPE=gateway), on every instance that shares the
 * store: later requests go to a model again.
 */
export const purgeCache = limitedProcedure.mutation(async ({ ctx }) => {
  if (!ctx.cache) {
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'The response cache is off (CACHE_MODE=off).' });
  }
  try {
    await ctx.cache.purge(ctx.principal.name);
  } catch {
    throw new TRPCError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The response cache store (REDIS_URL) is not reachable, so nothing was purged; retry shortly.',
      cause: retryLater(1000),
    });
  }
  return { purged: true as const, scope: ctx.config.CACHE_SCOPE };
});
