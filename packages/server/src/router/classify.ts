import { randomUUID } from 'node:crypto';
import { classifyInputSchema } from '../ml/schemas.ts';
import { limitedProcedure } from '../trpc.ts';

/** A mutation, not a query: prompts can be long, and they belong in a body, not a URL. */
export const classify = limitedProcedure
  .input(classifyInputSchema)
  .mutation(({ input, ctx, signal }) => ctx.ml.classify(input, { requestId: randomUUID(), signal }));
