import { publicProcedure } from '../trpc.ts';

/**
 * The calling key's tokens, cost and compression savings since the gateway
 * started, in all and per model. A key sees only its own; with auth off every
 * caller is "anonymous". Not rate limited: it reads a map in memory. Auth is
 * enforced before any procedure runs (createContext).
 */
export const usage = publicProcedure.query(({ ctx }) => ctx.ledger.report(ctx.principal.name));
