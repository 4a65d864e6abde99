import type { Lifecycle } from '../lifecycle.ts';
import type { MlClient } from '../ml/client.ts';

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

/**
 * Readiness for load balancers: the configuration loaded (the gateway would not
 * have started otherwise), the ML service has every model it serves loaded,
 * and shutdown has not begun.
 */
export async function readiness(lifecycle: Lifecycle, ml: MlClient) {
  const checks = {
    config: 'ok',
    mlService: await mlCheck(ml),
    shutdown: lifecycle.draining ? 'draining' : 'ok',
  };
  const ready = Object.values(checks).every((check) => check === 'ok');
  return { ready, checks, activeStreams: lifecycle.activeStreams };
}
