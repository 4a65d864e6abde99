import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { processUsage, repoRoot, temporaryDataDir } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';

const serverDir = join(repoRoot, 'packages', 'server');

/** How the gateway is started: transpiled by tsx at start-up (as before), or the setup step's compiled JavaScript. */
const WAYS = {
  tsx: ['--import', 'tsx', 'src/main.ts'],
  compiled: ['dist/main.js'],
} as const;
type Way = keyof typeof WAYS;

/** Starts the gateway, times it until /healthz answers, reads its RSS then, and stops it. */
async function startOnce(way: Way, dataDir: string): Promise<{ ms: number; rssMb: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...WAYS[way]], {
    cwd: serverDir,
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      LOCAL_PROVIDER: 'off',
      TOKENFLOW_ENV_FILE: '/dev/null',
      // The request log in a temporary directory (SQLite), never in the repository or an inherited database.
      TOKENFLOW_DATA_DIR: dataDir,
      DATABASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the gateway (${way}) exited with ${code}`)));
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        const found = /"url":"(http:[^"]+)"/.exec(line);
        if (found && line.includes('gateway listening')) resolve(found[1] as string);
      });
    });
    for (;;) {
      if ((await fetch(`${url}/healthz`).catch(() => null))?.ok) break;
    }
    const ms = performance.now() - started;
    return { ms, rssMb: processUsage(child.pid as number).rssMb };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

export interface StartupRow {
  way: Way;
  /** From spawning node until /healthz answers. */
  readyMs: Summary;
  /** Resident memory once ready. */
  rssMb: Summary;
}

/** The gateway's start-up time and memory, transpiled by tsx against compiled, in alternating rounds. */
export async function gatewayStartup(rounds: number): Promise<StartupRow[]> {
  const ways = Object.keys(WAYS) as Way[];
  const samples = Object.fromEntries(ways.map((w) => [w, [] as Array<{ ms: number; rssMb: number }>])) as Record<
    Way,
    Array<{ ms: number; rssMb: number }>
  >;
  // One request log for every start, as a restarted gateway reopens its own (the warm-up creates it).
  const dataDir = temporaryDataDir();
  try {
    for (const way of ways) await startOnce(way, dataDir.path); // warm-up: file caches, tsx's transpile cache
    for (let r = 0; r < rounds; r += 1) {
      for (const way of r % 2 === 0 ? ways : [...ways].reverse()) samples[way].push(await startOnce(way, dataDir.path));
    }
  } finally {
    dataDir.remove();
  }
  return ways.map((way) => ({
    way,
    readyMs: summarize(samples[way].map((s) => round(s.ms, 1))),
    rssMb: summarize(samples[way].map((s) => round(s.rssMb, 1))),
  }));
}
