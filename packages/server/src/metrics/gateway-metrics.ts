import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from '../providers/breaker.ts';
import { createCacheMetrics } from './cache-metrics.ts';
import { LabelGuard } from './label-guard.ts';
import { processRegistry } from './process-metrics.ts';
import { StreamMeter } from './stream-meter.ts';

/** Which limit refused a call: the rate limiter's three, plus the per-key and per-socket caps. */
export type RejectedLimit = 'requests' | 'streams' | 'tokens' | 'connections' | 'subscriptions';

/** Live state the gauges read at scrape time; the gateway supplies it once its servers exist. */
export interface MetricSources {
  connections(): number;
  streams(): number;
  breakers(): Record<string, { state: BreakerState }>;
}

export interface MetricsOptions {
  /** provider/model pairs always reported by name (the catalog's). */
  knownModels?: ReadonlyArray<{ provider: string; model: string }>;
  /** Distinct model ids outside the catalog reported by name before the rest become "other". */
  modelLabelLimit?: number;
}

const BREAKER_VALUES: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

// Seconds. Time to first token covers classification, fallbacks and reasoning models that think first.
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];
const ML_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/**
 * One gateway's Prometheus metrics, on a registry of its own so several
 * gateways in one process (tests) never share counters. Labels are bounded:
 * procedure names and error codes come from the code, providers from the
 * configuration, key labels are API key NAMES, models pass a LabelGuard.
 */
export function createGatewayMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  const registers = [registry];
  const known = options.knownModels ?? [];
  const models = new LabelGuard(
    options.modelLabelLimit ?? 200,
    known.map((m) => m.model),
  );
  const providers = new LabelGuard(
    50,
    known.map((m) => m.provider),
  );
  let sources: MetricSources | null = null;

  const requests = new Counter({
    name: 'tokenflow_requests_total',
    help: 'Finished tRPC calls by procedure and outcome ("OK" or the tRPC error code); streams count when they end.',
    labelNames: ['procedure', 'code'],
    registers,
  });
  const timeToFirstToken = new Histogram({
    name: 'tokenflow_time_to_first_token_seconds',
    help: 'From the start of a stream to its first text or reasoning token.',
    labelNames: ['provider', 'model'],
    buckets: TTFT_BUCKETS,
    registers,
  });
  const streamDuration = new Histogram({
    name: 'tokenflow_stream_duration_seconds',
    help: 'Whole streams that reached a model, however they ended.',
    labelNames: ['provider', 'model'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const tokens = new Counter({
    name: 'tokenflow_tokens_total',
    help: "Tokens from the provider's usage: direction in (prompt) or out (completion).",
    labelNames: ['provider', 'model', 'key', 'direction'],
    registers,
  });
  const cost = new Counter({
    name: 'tokenflow_cost_usd_total',
    help: "Cost in US dollars from the end event's usage, when known.",
    labelNames: ['provider', 'model', 'key'],
    registers,
  });
  const fallbacks = new Counter({
    name: 'tokenflow_fallbacks_total',
    help: 'selectModel hand-overs to the next candidate, by the failed provider and the error code.',
    labelNames: ['from_provider', 'code'],
    registers,
  });
  const rejections = new Counter({
    name: 'tokenflow_rate_limit_rejections_total',
    help: 'Calls refused by a limit: requests, streams, tokens, connections or subscriptions.',
    labelNames: ['key', 'limit'],
    registers,
  });
  const budgetAlerts = new Counter({
    name: 'tokenflow_budget_alerts_total',
    help: 'Keys whose spending crossed 80% or 100% of a budget (once per key, budget, period and threshold).',
    labelNames: ['key', 'budget', 'threshold'],
    registers,
  });
  const budgetRefusals = new Counter({
    name: 'tokenflow_budget_refusals_total',
    help: 'Streams refused because they could not fit a budget of their key.',
    labelNames: ['key', 'budget'],
    registers,
  });
  const ledgerDropped = new Counter({
    name: 'tokenflow_ledger_rows_dropped_total',
    help: 'Request-log rows dropped because the buffer was full while the database was slow or down.',
    registers,
  });
  const mlDuration = new Histogram({
    name: 'tokenflow_ml_request_duration_seconds',
    help: 'Calls to the ML service by endpoint and outcome ("ok" or the tRPC error code).',
    labelNames: ['endpoint', 'outcome'],
    buckets: ML_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'tokenflow_websocket_connections',
    help: 'Open WebSocket connections.',
    registers,
    collect() {
      this.set(sources?.connections() ?? 0);
    },
  });
  new Gauge({
    name: 'tokenflow_active_streams',
    help: 'Streams (subscriptions) running now.',
    registers,
    collect() {
      this.set(sources?.streams() ?? 0);
    },
  });
  new Gauge({
    name: 'tokenflow_circuit_breaker_state',
    help: 'Circuit breaker per provider and the ML service: 0 closed, 1 half-open, 2 open.',
    labelNames: ['breaker'],
    registers,
    collect() {
      this.reset();
      for (const [breaker, snapshot] of Object.entries(sources?.breakers() ?? {})) {
        this.set({ breaker }, BREAKER_VALUES[snapshot.state]);
      }
    },
  });

  let cacheBytes: () => number | null = () => null;
  const cache = createCacheMetrics(registers, () => cacheBytes());

  const modelLabels = (provider: string | undefined, model: string | undefined) => ({
    provider: providers.label(provider),
    model: models.label(model),
  });

  return {
    registry,

    /** The response cache's counters (lookups, stores, evictions, guard refusals, store errors). */
    cache,

    /** Where tokenflow_cache_bytes is read from: the in-memory store's size. */
    watchCache(bytes: () => number | null) {
      cacheBytes = bytes;
    },

    /** A finished call: code "OK" or the TRPCError code. */
    request(procedure: string, code: string) {
      requests.inc({ procedure, code });
    },

    rateLimited(key: string, limit: RejectedLimit) {
      rejections.inc({ key, limit });
    },

    budgetAlert(key: string, budget: string, threshold: number) {
      budgetAlerts.inc({ key, budget, threshold: String(threshold) });
    },

    budgetRefused(key: string, budget: string) {
      budgetRefusals.inc({ key, budget });
    },

    ledgerRowsDropped(rows: number) {
      ledgerDropped.inc(rows);
    },

    mlRequest(endpoint: string, outcome: string, seconds: number) {
      mlDuration.observe({ endpoint, outcome }, seconds);
    },

    /** The meter of one stream; it records every metric a stream moves, once it ends. */
    stream(procedure: string, key: string): StreamMeter {
      return new StreamMeter(procedure, key, {
        request: (code) => requests.inc({ procedure, code }),
        firstToken: (ref, seconds) => timeToFirstToken.observe(modelLabels(ref.provider, ref.model), seconds),
        duration: (ref, seconds) => streamDuration.observe(modelLabels(ref.provider, ref.model), seconds),
        usage: (ref, usage) => {
          const labels = { ...modelLabels(ref.provider, ref.model), key };
          tokens.inc({ ...labels, direction: 'in' }, usage.promptTokens);
          tokens.inc({ ...labels, direction: 'out' }, usage.completionTokens);
          if (usage.costUsd !== null) cost.inc(labels, usage.costUsd);
        },
        fallback: (from, code) => fallbacks.inc({ from_provider: providers.label(from.provider), code }),
      });
    },

    /** Where the gauges read live state from. */
    watch(next: MetricSources) {
      sources = next;
    },

    /** The text a Prometheus scrape receives: this gateway's metrics, then the process's. */
    async scrape(): Promise<{ contentType: string; body: string }> {
      const [own, process] = await Promise.all([registry.metrics(), processRegistry().metrics()]);
      return { contentType: registry.contentType, body: `${own}\n${process}` };
    },
  };
}
