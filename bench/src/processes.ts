import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Starts an entry point in its own Node process (TypeScript through tsx, a .mjs
 * file as it is) and waits for the JSON line it prints when ready.
 */
export async function startProcess<T>(
  entry: string,
  env: Record<string, string>,
  // tsx resolves from the bench package, where it is installed.
  cwd = join(repoRoot, 'bench'),
  /** Flags for node itself (Node refuses some, such as --cpu-prof, in NODE_OPTIONS). */
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; ready: T }> {
  const loader = entry.endsWith('.mjs') ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, entry], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<T>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('{"ready"')) resolve(JSON.parse(line).ready as T);
    });
  });
  return { child, ready };
}

export interface BenchGateway {
  child: ChildProcess;
  ready: { url: string; pid: number };
  /** Its TOKENFLOW_DATA_DIR (the SQLite request log), a temporary directory; undefined with LEDGER=off. */
  dataDir: string | undefined;
  /** SIGTERM, then waits for the exit (the ledger's last rows and any CPU profile are written then) and removes dataDir. */
  stop(): Promise<void>;
}

/**
 * Starts the gateway (`gateway-process.mjs`) in its own process. Its request
 * log goes to a temporary TOKENFLOW_DATA_DIR, removed by stop() (or when the
 * bench exits), so a run never writes into the repository; DATABASE_URL is
 * passed only when `env` sets it, so an inherited one never receives bench rows.
 */
export async function startGateway(env: Record<string, string>, nodeArgs: string[] = []): Promise<BenchGateway> {
  const dataDir = env.LEDGER === 'off' ? undefined : temporaryDataDir();
  try {
    const { child, ready } = await startProcess<{ url: string; pid: number }>(
      'src/gateway-process.mjs',
      // An empty value is "not set" to the gateway's config.
      { DATABASE_URL: '', TOKENFLOW_DATA_DIR: dataDir?.path ?? '', ...env },
      undefined,
      nodeArgs,
    );
    return {
      child,
      ready,
      dataDir: dataDir?.path,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        }
        dataDir?.remove();
      },
    };
  } catch (error) {
    dataDir?.remove();
    throw error;
  }
}

/** A fresh directory under the system's temporary directory; removed by remove(), or when the bench exits. */
export function temporaryDataDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'tokenflow-bench-ledger-'));
  const remove = () => {
    process.off('exit', remove);
    rmSync(path, { recursive: true, force: true });
  };
  process.once('exit', remove);
  return { path, remove };
}

/** CPU time (user + system, ms) and resident memory (MB) of a process, from /proc. */
export function processUsage(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  // Linux reports CPU time in clock ticks of 10 ms.
  return { cpuMs: ticks * 10, rssMb: rssKb / 1024 };
}
