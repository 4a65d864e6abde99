import { randomUUID } from 'node:crypto';
import { compressInputSchema } from '../ml/schemas.ts';
import { publicProcedure } from '../trpc.ts';

export const compress = publicProcedure
  .input(compressInputSchema)
  .mutation(({ input, ctx, signal }) => ctx.ml.compress(input, { requestId: randomUUID(), signal }));
