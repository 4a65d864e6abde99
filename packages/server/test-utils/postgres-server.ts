import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { closedPort } from './replay-upstream.ts';

export interface RunningPostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/tokenflow (trust auth: any password is accepted) */
  url: string;
  port: number;
  /** A fast shutdown (SIGINT: open sessions are ended, as an orderly stop would), then the data is removed. */
  stop(): Promise<void>;
  /** SIGKILL to the server and all its processes, as a crash would; then the data is removed. */
  kill(): Promise<void>;
  /** A fast shutdown that keeps the data: the database is down until resume(). */
  pause(): Promise<void>;
  /** Starts the server again on the same port with the same data; resolves once it accepts connections. */
  resume(): Promise<void>;
}

const DATABASE = 'tokenflow';
const MISSING =
  "PostgreSQL's initdb and postgres were not found (POSTGRES_BIN_DIR, PATH, /usr/lib/postgresql/*/bin): " +
  "install Debian's postgresql package: apt-get install postgresql";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The directory holding initdb and postgres. */
function binDir(): string {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  const fromEnv = process.env.POSTGRES_BIN_DIR;
  if (fromEnv) {
    if (!has(fromEnv)) throw new Error(`POSTGRES_BIN_DIR=${fromEnv} holds no initdb and postgres`);
    return fromEnv;
  }
  const onPath = (process.env.PATH ?? '').split(delimiter).find((dir) => dir && has(dir));
  if (onPath) return onPath;
  // Debian installs the binaries off PATH, one directory per major version: take the newest.
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((version) => has(join(root, version, 'bin'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error(MISSING);
  return join(root, newest, 'bin');
}

/**
 * PostgreSQL refuses to run as root, and CI runs as root: then the server runs
 * as the `postgres` user Debian's package creates.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      "running as root, PostgreSQL needs a 'postgres' user to run as and there is none: " +
        "install Debian's postgresql package (it creates the user) or run the tests as a regular user",
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** True once `port` accepts a session on the `postgres` database. */
async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

interface Instance {
  bin: string;
  dir: string;
  user: { uid: number; gid: number } | undefined;
}

async function launch(instance: Instance, port: number): Promise<ChildProcess> {
  const { bin, dir, user } = instance;
  // No durability: test data may be lost in a crash, and fsync is most of a test's I/O wait.
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];
  const args = ['-D', join(dir, 'data'), '-p', String(port), '-k', dir, ...settings.flatMap((s) => ['-c', s])];
  // Its own process group, so that kill() reaches the backends too, as a machine crash would.
  const child = spawn(join(bin, 'postgres'), args, {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `postgres exited (${child.signalCode ?? child.exitCode}) before accepting connections:\n${output}`,
      );
    }
    if (Date.now() > deadline) {
      signalGroup(child, 'SIGKILL');
      throw new Error(`postgres did not accept connections on port ${port} within 15 s:\n${output}`);
    }
    await sleep(25);
  }
  return child;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Starts a throwaway PostgreSQL server: initdb into a fresh temporary
 * directory (trust auth), `postgres` on a free loopback port with its socket
 * in that directory, and a `tokenflow` database. Resolves once it accepts
 * connections. Nothing is written outside the temporary directory.
 */
export async function startPostgresServer(): Promise<RunningPostgresServer> {
  const bin = binDir();
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'tokenflow-pg-'));
  if (user) await chown(dir, user.uid, user.gid);
  const instance: Instance = { bin, dir, user };
  try {
    const initdb = ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'];
    await run(join(bin, 'initdb'), initdb, { cwd: dir, ...user }).catch(
      (error: { stderr?: string; message: string }) => {
        throw new Error(`initdb failed: ${error.stderr || error.message}`);
      },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let child: ChildProcess | undefined;
  let port = 0;
  // A free port can be taken by someone else before postgres binds it: try another.
  for (let attempt = 1; !child; attempt += 1) {
    port = await closedPort();
    try {
      child = await launch(instance, port);
    } catch (error) {
      const raced = error instanceof Error && /could not bind|already in use/i.test(error.message);
      if (!raced || attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  let running: ChildProcess | undefined = child;

  // A test run that dies must not leave servers or data behind.
  const reap = () => {
    if (running) signalGroup(running, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', reap);

  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`create database ${DATABASE}`);
  await admin.end();

  const halt = async (signal: NodeJS.Signals) => {
    const current = running;
    running = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    // 'close' comes after the postmaster and every backend holding its pipes have gone.
    const closed = once(current, 'close');
    if (signal === 'SIGKILL') signalGroup(current, signal);
    else current.kill(signal);
    await closed;
  };
  const remove = async () => {
    process.off('exit', reap);
    await rm(dir, { recursive: true, force: true });
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`,
    port,
    stop: () => halt('SIGINT').then(remove),
    kill: () => halt('SIGKILL').then(remove),
    pause: () => halt('SIGINT'),
    async resume() {
      if (running) return;
      running = await launch(instance, port);
    },
  };
}
