import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { KeyRing } from '../auth/api-keys.ts';
import { BudgetGuard } from '../budgets/budget-guard.ts';
import { BudgetStore } from '../budgets/budget-store.ts';
import { createResponseCache } from '../cache/index.ts';
import type { Config } from '../config.ts';
import { LedgerService } from '../ledger/ledger-service.ts';
import type { Lifecycle } from '../lifecycle.ts';
import { createRateLimiter } from '../limits/index.ts';
import { createGatewayMetrics } from '../metrics/index.ts';
import { createMlClient, mlClientOptions } from '../ml/client.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import { loadCatalog } from '../routing/catalog.ts';
import { checkCatalogAgainstRoutes, readRouteNames } from '../routing/routes.ts';
import { startTracing } from '../telemetry/tracing.ts';
import type { GatewayContext } from '../trpc.ts';

/** What every call shares, whoever makes it: the context without the caller. */
export type Services = Omit<GatewayContext, 'connection' | 'inProcess' | 'principal' | 'surface'>;

/** Warns about catalog categories no classification can produce (they are reached only by name). */
function warnUnreachableCategories(config: Config, catalog: Services['catalog'], logger: Logger) {
  if (!config.TOKENFLOW_ROUTES) return;
  const unreachable = checkCatalogAgainstRoutes(catalog, readRouteNames(config.TOKENFLOW_ROUTES));
  if (unreachable.length > 0) {
    logger.warn(
      { categories: unreachable },
      'the catalog ranks models for categories outside TOKENFLOW_ROUTES: only a caller-sent possibleCategories reaches them',
    );
  }
}

/**
 * The composition root: builds the catalog, metrics, provider registry, ML
 * client, rate limiter, usage ledger and API keys once, for every surface.
 * `stop` releases what outlives a request (the limiter's store, tracing).
 */
export function composeServices(config: Config, logger: Logger, lifecycle: Lifecycle) {
  const catalog = loadCatalog(config.TOKENFLOW_CATALOG);
  warnUnreachableCategories(config, catalog, logger);
  // Its own registry, not prom-client's global one: tests run several gateways in one process.
  const metrics = createGatewayMetrics({ knownModels: catalog.models });
  const stopTracing = startTracing({
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: config.OTEL_SERVICE_NAME,
  });
  const keys = new KeyRing(config.apiKeys, {
    requestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MINUTE,
    concurrentStreams: config.RATE_LIMIT_CONCURRENT_STREAMS,
    tokensPerMinute: config.RATE_LIMIT_TOKENS_PER_MINUTE,
    maxConnections: config.MAX_CONNECTIONS_PER_KEY,
  });
  if (!keys.enabled) logger.warn({ host: config.HOST }, 'auth is off: no API key is configured (TOKENFLOW_API_KEYS)');
  const ledger = new LedgerService(
    config.LEDGER === 'off'
      ? null
      : {
          databaseUrl: config.DATABASE_URL,
          dataDir: resolve(config.TOKENFLOW_DATA_DIR),
          maxBufferedRows: config.LEDGER_BUFFER_ROWS,
          flushMs: config.LEDGER_FLUSH_MS,
          logger: logger.child({ component: 'ledger' }),
          onDrop: (rows) => metrics.ledgerRowsDropped(rows),
        },
  );
  const budgets = ledger.enabled
    ? new BudgetGuard({
        // The store reads the database only once the ledger is open (before the gateway listens).
        store: new BudgetStore(
          () => ledger.db,
          () => ledger.dialect,
        ),
        defaults: {
          usdPerDay: config.BUDGET_USD_PER_DAY,
          usdPerMonth: config.BUDGET_USD_PER_MONTH,
          tokensPerDay: config.BUDGET_TOKENS_PER_DAY,
        },
        logger: logger.child({ component: 'budgets' }),
        // A request that never settles (its gateway died) stops holding once no stream could still be running.
        // Each selectModel fallback gets its own total timeout: four of them, and five minutes more.
        holdTtlMs: 4 * config.GENERATE_TOTAL_TIMEOUT_MS + 300_000,
        alerts: {
          crossed: (key, budget, threshold) => metrics.budgetAlert(key, budget, threshold),
          refused: (key, budget) => metrics.budgetRefused(key, budget),
        },
      })
    : null;
  const services: Services = {
    config,
    registry: createProviderRegistry(config),
    ml: createMlClient({ ...mlClientOptions(config), metrics }),
    catalog,
    metrics,
    lifecycle,
    logger,
    limiter: createRateLimiter({ redisUrl: config.REDIS_URL, logger }),
    ledger,
    budgets,
    cache: createResponseCache(config, metrics, logger.child({ component: 'cache' })),
  };
  /**
   * After the streams: the rows and budget settles of streams cut by the
   * shutdown are written before the database closes, within `graceMs`.
   */
  const stop = async (graceMs: number) => {
    await services.limiter.close();
    await services.cache?.close();
    const deadline = Date.now() + graceMs;
    // At once: a slow settle must not use up the time the buffered rows need.
    await Promise.all([budgets?.drain(graceMs), ledger.flush(graceMs)]);
    await ledger.close(Math.max(0, deadline - Date.now()));
    await stopTracing();
  };
  return { services, keys, stop };
}
