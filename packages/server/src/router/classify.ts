import { randomUUID } from 'node:crypto';
import { classifyInputSchema } from '../ml/schemas.ts';
import { publicProcedure } from '../trpc.ts';

/** A mutation, not a query: prompts can be long, and they belong in a body, not a URL. */
export const classify = publicProcedure
  .input(classifyInputSchema)
  .mutation(({ input, ctx, signal }) => ctx.ml.classify(input, { requestId: randomUUID(), signal }));
