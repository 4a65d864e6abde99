import { TRPCError } from '@trpc/server';
import type { RequestRow } from '../ledger/request-row.ts';
import { type UsageReport, usageExportSchema, usageQuerySchema } from '../ledger/usage-query.ts';
import { type GatewayContext, publicProcedure } from '../trpc.ts';

/** A key sees only its own rows: naming another key is refused, not silently narrowed. */
function ownKey(ctx: GatewayContext, key: string | undefined) {
  if (key !== undefined && key !== ctx.principal.name) {
    throw new TRPCError({
      code: 'FORBIDDEN',
      message: `key: a key sees only its own usage; leave key out or send "${ctx.principal.name}".`,
    });
  }
  if (!ctx.ledger.enabled) {
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'The request log is off (LEDGER=off).' });
  }
  return ctx.principal.name;
}

const unreachable = (error: unknown) =>
  new TRPCError({
    code: 'SERVICE_UNAVAILABLE',
    message: 'The ledger database is not reachable; retry shortly.',
    cause: error,
  });

/**
 * The calling key's requests, tokens, cost, savings, latency and budgets,
 * filtered (time range, model, category, procedure) and grouped (day, model,
 * category, routing, procedure, outcome). Not rate limited: dashboards poll it.
 * Auth is enforced before any procedure runs (createContext).
 */
export const usage = publicProcedure
  .input(usageQuerySchema.optional())
  .query(async ({ ctx, input }): Promise<UsageReport> => {
    const query = input ?? usageQuerySchema.parse({});
    const key = ownKey(ctx, query.key);
    try {
      const [report, budgets] = await Promise.all([
        ctx.ledger.usage(key, query),
        ctx.budgets?.status(key, ctx.principal.budgets) ?? [],
      ]);
      return { ...report, budgets };
    } catch (error) {
      throw error instanceof TRPCError ? error : unreachable(error);
    }
  });

/** The calling key's rows for the CSV export (GET /api/usage.csv), validated like the usage query. */
export function usageRows(ctx: GatewayContext, input: unknown): AsyncIterable<RequestRow> {
  const parsed = usageExportSchema.safeParse(input);
  if (!parsed.success) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid input', cause: parsed.error });
  }
  return ctx.ledger.export(ownKey(ctx, parsed.data.key), parsed.data);
}
