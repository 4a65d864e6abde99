import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledMiniLM, type RunningMlService, tinyModels } from './ml-service.ts';

const mlDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ml-python');

/**
 * startTestMlService on a port of the caller's choosing, ready: to bring the
 * service back where the gateway's ML_SERVICE_URL already points after a crash.
 */
export async function startTestMlServiceAt(
  port: number,
  settings: Record<string, string> = {},
): Promise<RunningMlService> {
  const child = spawn(join(mlDir, '.venv', 'bin', 'python'), ['-m', 'tokenflow_ml'], {
    cwd: mlDir,
    env: {
      ...process.env,
      HF_HUB_OFFLINE: '1',
      ML_LOG_LEVEL: 'warning',
      ML_GENERATOR_ENABLED: 'false',
      ML_CLASSIFIER_BACKEND: 'embedding',
      ML_CLASSIFIER_MODEL: bundledMiniLM(),
      ML_COMPRESSOR_BACKEND: 'llmlingua2',
      ML_COMPRESSOR_MODEL: tinyModels().llmlingua2,
      ...settings,
      ML_PORT: String(port),
    },
    stdio: ['ignore', 'ignore', process.env.TEST_ML_LOGS ? 'inherit' : 'ignore'],
  });
  const url = `http://127.0.0.1:${port}`;
  const poll = async (path: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the ML service exited with ${child.exitCode}`);
      const ok = await fetch(`${url}${path}`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the ML service did not answer ${path} in time`);
  };
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await once(child, 'exit');
  };
  const service: RunningMlService = {
    url,
    process: child,
    ready: (timeoutMs = 120_000) => poll('/readyz', timeoutMs),
    // This helper restarts services in place; their logs are not kept.
    logs: () => [],
    kill: () => stop('SIGKILL'),
    close: () => stop('SIGTERM'),
  };
  try {
    await poll('/healthz', 60_000);
    await service.ready();
  } catch (error) {
    await service.kill();
    throw error;
  }
  return service;
}
