import { Counter, Gauge, type Registry } from 'prom-client';
import type { GuardReason } from '../cache/false-hit-guard.ts';
import type { CacheMetricsSink } from '../cache/response-cache.ts';

/** The response cache's metrics, on the gateway's registry; `bytes` is read at scrape time. */
export function createCacheMetrics(registers: Registry[], bytes: () => number | null) {
  const lookups = new Counter({
    name: 'tokenflow_cache_lookups_total',
    help: 'Response cache lookups by kind (exact, semantic) and result (hit, miss; unavailable: a semantic lookup without an embedding).',
    labelNames: ['kind', 'result'],
    registers,
  });
  const stored = new Counter({
    name: 'tokenflow_cache_stored_total',
    help: 'Answers stored in the response cache.',
    registers,
  });
  const storedBytes = new Counter({
    name: 'tokenflow_cache_stored_bytes_total',
    help: 'Bytes (UTF-8 JSON) of answers written to the response cache.',
    registers,
  });
  const evictions = new Counter({
    name: 'tokenflow_cache_evictions_total',
    help: 'Unexpired entries the in-memory cache dropped to stay within CACHE_MAX_BYTES.',
    registers,
  });
  const refusals = new Counter({
    name: 'tokenflow_cache_guard_refusals_total',
    help: 'Semantic lookups whose closest candidates the false-hit guard refused, by the difference it found (once per lookup).',
    labelNames: ['reason'],
    registers,
  });
  const errors = new Counter({
    name: 'tokenflow_cache_store_errors_total',
    help: 'Cache reads and writes that failed (Redis down or slow); the request went on without the cache.',
    labelNames: ['operation'],
    registers,
  });
  new Gauge({
    name: 'tokenflow_cache_bytes',
    help: 'Bytes the in-memory response cache holds (absent for Redis).',
    registers,
    collect() {
      const held = bytes();
      if (held !== null) this.set(held);
    },
  });
  const sink: CacheMetricsSink & {
    evicted(count: number): void;
    failed(operation: 'read' | 'write', error: unknown): void;
  } = {
    lookup: (kind, result) => lookups.inc({ kind, result }),
    stored: (size) => {
      stored.inc();
      storedBytes.inc(size);
    },
    guardRefused: (reason: GuardReason) => refusals.inc({ reason }),
    evicted: (count) => evictions.inc(count),
    failed: (operation) => errors.inc({ operation }),
  };
  return sink;
}
