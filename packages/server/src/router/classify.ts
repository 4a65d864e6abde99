import { randomUUID } from 'node:crypto';
import { classifyInputSchema } from '../ml/schemas.ts';
import { limitedProcedure } from '../trpc.ts';

/** A mutation, not a query: prompts can be long, and they belong in a body, not a URL. */
export const classify = limitedProcedure.input(classifyInputSchema).mutation(async ({ input, ctx, signal }) => {
  // The embedding is the response cache's (asked for by selectModel only), not part of this answer.
  const { embedding: _embedding, ...result } = await ctx.ml.classify(input, { requestId: randomUUID(), signal });
  return result;
});
