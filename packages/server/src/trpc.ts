import { initTRPC, TRPCError } from '@trpc/server';
import type { Logger } from 'pino';
import type { Principal } from './auth/api-keys.ts';
import type { BudgetGuard } from './budgets/budget-guard.ts';
import type { ResponseCache } from './cache/response-cache.ts';
import type { Config } from './config.ts';
import type { LedgerService } from './ledger/ledger-service.ts';
import { mlRow } from './ledger/ml-row.ts';
import type { Surface } from './ledger/request-row.ts';
import type { Connection, Lifecycle } from './lifecycle.ts';
import { hasLimits, type RateLimiter, RateLimitStoreUnavailable } from './limits/index.ts';
import { causeDetails, refusal, retryLater } from './limits/refusal.ts';
import type { GatewayMetrics } from './metrics/index.ts';
import type { MlClient } from './ml/client.ts';
import type { ProviderRegistry } from './providers/registry.ts';
import type { Catalog } from './routing/catalog.ts';
import { transformer } from './wire/transformer.ts';

/** The services every procedure may use; built once and shared by HTTP and WebSocket. */
export interface GatewayContext {
  config: Config;
  registry: ProviderRegistry;
  ml: MlClient;
  catalog: Catalog;
  lifecycle: Lifecycle;
  logger: Logger;
  limiter: RateLimiter;
  /** This gateway's Prometheus metrics (GET /metrics). */
  metrics: GatewayMetrics;
  /** The request log: one row per call (ledger/), in SQLite or PostgreSQL. */
  ledger: LedgerService;
  /** Per-key spending caps, checked before a stream is routed; null when the ledger is off. */
  budgets: BudgetGuard | null;
  /** Stored answers replayed instead of asking a model again (cache/); null when CACHE_MODE is off. */
  cache: ResponseCache | null;
  /** How the call came in: tRPC over WebSocket or HTTP, REST, or /v1. */
  surface: Surface;
  /** The WebSocket a subscription runs on (null over HTTP), so shutdown can move idle sockets first. */
  connection: Connection;
  /**
   * True when an adapter (REST, /v1) calls the procedures in-process: its
   * streams yield the events themselves, without tRPC's tracked envelope.
   */
  inProcess: boolean;
  /** Who is calling: the API key's name and limits (ANONYMOUS when auth is off). */
  principal: Principal;
  /**
   * True while the caller's connection has not taken what was already sent to
   * it (the kernel's send buffer is full): a stream may then join text deltas
   * that arrive together. Absent where that cannot be known.
   */
  clientBehind?: (() => boolean) | undefined;
}

type Issue = { path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>; message: string };

/**
 * The message a caller sees: for invalid input, "maxTokens: Too small: expected
 * number to be >=1" instead of a JSON dump of validation issues.
 */
export function publicMessage(error: TRPCError): string {
  const issues = (error.cause as { issues?: Issue[] } | undefined)?.issues;
  if (error.code !== 'BAD_REQUEST' || !Array.isArray(issues)) return error.message;
  const described = issues.map((issue) => {
    const path = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return `Invalid input: ${described.join('; ')}`;
}

const t = initTRPC.context<GatewayContext>().create({
  transformer,
  isDev: process.env.NODE_ENV === 'development',
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      message: publicMessage(error),
      data: {
        ...shape.data,
        ...causeDetails(error.cause),
      },
    };
  },
});

/**
 * Counts one call against the caller's limits, or throws TOO_MANY_REQUESTS with
 * `retryAfterMs`. Resolves to the function that gives a stream's slot back.
 */
export async function admit(ctx: GatewayContext, stream: boolean): Promise<() => Promise<void>> {
  if (!hasLimits(ctx.principal.limits)) return async () => {};
  try {
    const admission = await ctx.limiter.admit(ctx.principal.name, ctx.principal.limits, { stream });
    if (!admission.ok) {
      ctx.metrics.rateLimited(ctx.principal.name, admission.limit);
      throw refusal(admission);
    }
    return admission.release;
  } catch (error) {
    if (!(error instanceof RateLimitStoreUnavailable)) throw error;
    // Failing closed: without its counters the gateway cannot tell who is over their limit.
    throw new TRPCError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The rate-limit store (REDIS_URL) is not reachable; retry shortly.',
      cause: retryLater(1000),
    });
  }
}

export const router = t.router;
/**
 * Every procedure: counts finished queries and mutations by outcome. A
 * subscription is counted here only when it cannot start (invalid input);
 * eventStream counts it when its stream ends.
 */
export const publicProcedure = t.procedure.use(async ({ ctx, path, type, next, signal }) => {
  const ts = Date.now();
  const started = performance.now();
  const result = await next();
  if (type !== 'subscription' || !result.ok) ctx.metrics.request(path, result.ok ? 'OK' : result.error.code);
  // Streams write their own rows (eventStream); the ML calls are logged here.
  if (path === 'classify' || path === 'compress') {
    ctx.ledger.record(
      mlRow({
        procedure: path,
        key: ctx.principal.name,
        surface: ctx.surface,
        ts,
        totalMs: performance.now() - started,
        outcome: result.ok ? 'OK' : signal?.aborted ? 'CLIENT_CLOSED_REQUEST' : result.error.code,
        result: result.ok ? result.data : null,
      }),
    );
  }
  return result;
});
/** A call that counts against the caller's request rate (streams count in eventStream). */
export const limitedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const release = await admit(ctx, false);
  try {
    return await next();
  } finally {
    await release();
  }
});
export const createCallerFactory = t.createCallerFactory;
