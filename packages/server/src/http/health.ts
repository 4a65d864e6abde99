import type { Lifecycle } from '../lifecycle.ts';

/**
 * Readiness for load balancers: ready once the configuration has loaded (the
 * gateway would not have started otherwise) and until shutdown begins.
 * Later dependencies (the ML service) add their checks here.
 */
export function readiness(lifecycle: Lifecycle) {
  const checks = { config: 'ok', shutdown: lifecycle.draining ? 'draining' : 'ok' } as const;
  return { ready: !lifecycle.draining, checks, activeStreams: lifecycle.activeStreams };
}
