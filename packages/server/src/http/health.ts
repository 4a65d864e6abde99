import type { Lifecycle } from '../lifecycle.ts';
import type { MlClient } from '../ml/client.ts';
import { ML_SERVICE } from '../ml/errors.ts';
import type { BreakerSnapshot } from '../providers/breaker.ts';
import type { ProviderRegistry } from '../providers/registry.ts';

/** "ready", or what the ML service says is missing ("classifier: loading"). */
async function mlCheck(ml: MlClient): Promise<string> {
  const readiness = await ml.readiness();
  if (readiness.ready) return 'ok';
  if ('error' in readiness) return readiness.error;
  const waiting = Object.entries(readiness.models)
    .filter(([, model]) => model.status !== 'ready')
    .map(([name, model]) => `${name} ${model.status}${model.error ? `: ${model.error}` : ''}`);
  return waiting.join('; ');
}

/** Every circuit breaker's state: each provider's and the ML service's. */
export function allBreakers(
  registry: Pick<ProviderRegistry, 'breakers'> | undefined,
  ml: Pick<MlClient, 'breaker'>,
): Record<string, BreakerSnapshot> {
  return { ...registry?.breakers(), [ML_SERVICE]: ml.breaker() };
}

/**
 * Readiness for load balancers: the configuration loaded (the gateway would not
 * have started otherwise), the ML service has every model it serves loaded,
 * and shutdown has not begun. Circuit breakers are reported, not checked: an
 * open one is about a provider, and another gateway instance would see it too.
 */
export async function readiness(lifecycle: Lifecycle, ml: MlClient, registry?: Pick<ProviderRegistry, 'breakers'>) {
  const checks = {
    config: 'ok',
    mlService: await mlCheck(ml),
    shutdown: lifecycle.draining ? 'draining' : 'ok',
  };
  const ready = Object.values(checks).every((check) => check === 'ok');
  return { ready, checks, activeStreams: lifecycle.activeStreams, breakers: allBreakers(registry, ml) };
}
