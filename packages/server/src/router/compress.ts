import { randomUUID } from 'node:crypto';
import { compressInputSchema } from '../ml/schemas.ts';
import { limitedProcedure } from '../trpc.ts';

export const compress = limitedProcedure
  .input(compressInputSchema)
  .mutation(({ input, ctx, signal }) => ctx.ml.compress(input, { requestId: randomUUID(), signal }));
