import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { closedPort } from './replay-upstream.ts';

export interface RunningRedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** SIGTERM, as an orderly shutdown would. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

const MISSING =
  "redis-server was not found on PATH: install Debian's redis-server package: apt-get install redis-server; " +
  "npm test's setup does this when run as root";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True once something on `port` answers PING the way Redis does. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function launch(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  // No persistence: each test server starts empty and writes nothing to disk.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(port))) {
    if (spawnError) throw spawnError.code === 'ENOENT' ? new Error(MISSING) : spawnError;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `redis-server exited (${child.signalCode ?? child.exitCode}) before accepting connections:\n${output}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s:\n${output}`);
    }
    await sleep(25);
  }
  return { child, output: () => output };
}

/**
 * Starts the real `redis-server` binary on a free loopback port (or `port`, to
 * restart one at the same address) and resolves once it answers PING.
 */
export async function startRedisServer(options: { port?: number } = {}): Promise<RunningRedisServer> {
  let child: ChildProcess | undefined;
  let port = options.port ?? 0;
  // A free port can be taken by someone else before redis-server binds it: try another.
  for (let attempt = 1; !child; attempt += 1) {
    port = options.port ?? (await closedPort());
    try {
      ({ child } = await launch(port));
    } catch (error) {
      const raced = error instanceof Error && error.message.includes('Address already in use');
      if (!raced || options.port !== undefined || attempt >= 3) throw error;
    }
  }
  const running = child;
  // A test run that dies must not leave servers behind.
  const reap = () => running.kill('SIGKILL');
  process.once('exit', reap);
  const stop = async (signal: NodeJS.Signals) => {
    process.off('exit', reap);
    if (running.exitCode !== null || running.signalCode !== null) return;
    // 'close' comes after 'exit' and after the pipes have closed: no handle is left.
    const exited = once(running, 'close');
    running.kill(signal);
    await exited;
  };
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => stop('SIGTERM'), kill: () => stop('SIGKILL') };
}
