import { runGeneration } from '../generation/generate.ts';
import { generateInputSchema } from '../generation/input.ts';
import { publicProcedure } from '../trpc.ts';
import { eventStream } from './event-stream.ts';

export const generate = publicProcedure
  .input(generateInputSchema)
  .subscription(({ input, ctx, signal }) =>
    eventStream('generate', { ctx, signal, lastEventId: input.lastEventId }, (scope) =>
      runGeneration(input, { registry: ctx.registry, catalog: ctx.catalog, ...scope }),
    ),
  );
