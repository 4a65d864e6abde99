import { publicProcedure } from '../trpc.ts';

export const health = publicProcedure.query(({ ctx }) => ({
  status: ctx.lifecycle.draining ? ('draining' as const) : ('ok' as const),
  uptimeMs: Date.now() - ctx.lifecycle.startedAt,
  activeStreams: ctx.lifecycle.activeStreams,
  providers: ctx.registry.list().map(({ name, configured }) => ({ name, configured })),
}));
