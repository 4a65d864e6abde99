import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, event-loop lag, GC, handles),
 * collected once per process. They describe the process, not a gateway, and
 * collectDefaultMetrics starts an event-loop-delay monitor and a GC observer
 * that it has no way to stop: calling it per gateway would add both for every
 * gateway a test process starts, for good. Each gateway's /metrics shows these
 * beside its own (see GatewayMetrics.scrape).
 */
export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
