import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** CPU time (user + system, ms) and resident memory (MB) of a process, from /proc. */
export function processUsage(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  // Linux reports CPU time in clock ticks of 10 ms.
  return { cpuMs: ticks * 10, rssMb: rssKb / 1024 };
}
