// `npm start`: sets up what is missing, then runs the ML service and the
// gateway in this terminal with prefixed, readable logs. Ctrl-C stops both.
// `npm run ml:ray` (`--ray`): the same, the ML service on Ray Serve.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseEnv } from 'node:util';
import { formatLogLine, paint } from './lib/log-format.mjs';
import { mlDir, root, setup, venvPython } from './setup.mjs';

const onRay = process.argv.includes('--ray');
setup({ ray: onRay });

// The real environment wins over .env, as in the gateway itself.
const dotEnvPath = join(root, '.env');
const dotEnv = existsSync(dotEnvPath) ? parseEnv(readFileSync(dotEnvPath, 'utf8')) : {};
const env = { ...dotEnv, ...process.env };
env.ML_PORT ??= '8001';
env.ML_SERVICE_URL ??= `http://127.0.0.1:${env.ML_PORT}`;
env.PORT ??= '8000';
// The services run in their own package folders: a file path given relative to the
// repository root (as in .env) must still point at the same file there.
// The request log's SQLite file lives in data/ at the repository root unless told otherwise.
env.TOKENFLOW_DATA_DIR ??= 'data';
for (const name of ['TOKENFLOW_ROUTES', 'TOKENFLOW_CATALOG', 'ML_ROUTING_HEAD', 'TOKENFLOW_DATA_DIR']) {
  // ML_ROUTING_HEAD=off is a setting, not a file.
  if (env[name] && env[name] !== 'off' && !isAbsolute(env[name])) env[name] = resolve(root, env[name]);
}

const services = [
  {
    name: 'ml',
    color: 36,
    command: venvPython,
    args: ['-m', onRay ? 'tokenflow_ml.ray_serve' : 'tokenflow_ml'],
    cwd: mlDir,
    group: onRay,
  },
  {
    name: 'gateway',
    color: 35,
    command: process.execPath,
    // Compiled by the setup step: nothing to transpile at start-up.
    args: ['--enable-source-maps', 'dist/main.js'],
    cwd: join(root, 'packages', 'server'),
  },
];
const width = Math.max(...services.map((s) => s.name.length));

let stopping = false;
let failed = false;
// The gateway may drain streams for SHUTDOWN_GRACE_MS; only then is a child killed.
const killAfterMs = Number(env.SHUTDOWN_GRACE_MS ?? 10_000) + 5_000;
const children = services.map((service) => {
  const prefix = paint(service.color, `${service.name.padEnd(width)} |`);
  const child = spawn(service.command, service.args, {
    cwd: service.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // On Ray Serve the cluster's processes (GCS, raylet) join this group: a forced stop
    // kills the group, so nothing of the cluster outlives `npm run ml:ray`.
    detached: Boolean(service.group),
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      // A traceback comes out as several lines: each gets the service's prefix.
      for (const row of formatLogLine(line).split('\n')) console.log(`${prefix} ${row}`);
    });
  }
  child.on('error', (error) => {
    console.log(`${prefix} could not start: ${error.message}`);
    failed = true;
    stopAll(`${service.name} could not start`, 1);
  });
  // 'close' comes after the child's output has been read to the end.
  child.on('close', (code, signal) => {
    console.log(`${prefix} exited (${signal ?? code})`);
    if (stopping) return;
    failed = true;
    stopAll(`${service.name} stopped unexpectedly`, 1);
  });
  return child;
});

// On Ray Serve every deployment loads its model before the API answers.
async function waitUntilUp(url, timeoutMs = onRay ? 300_000 : 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function stopAll(reason, exitCode) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${paint(2, '[start]')} ${reason}: stopping every service`);
  const alive = children.filter(
    (child) => child.pid !== undefined && child.exitCode === null && child.signalCode === null,
  );
  for (const child of alive) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of alive) {
      if (services[children.indexOf(child)].group) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    }
  }, killAfterMs);
  Promise.all(alive.map((child) => new Promise((resolve) => child.once('close', resolve)))).then(() => {
    clearTimeout(force);
    process.exit(failed ? 1 : exitCode);
  });
}

process.on('SIGINT', () => stopAll('Ctrl-C', 0));
process.on('SIGTERM', () => stopAll('SIGTERM', 0));

const gatewayUrl = `http://127.0.0.1:${env.PORT}`;
const [mlUp, gatewayUp] = await Promise.all([
  waitUntilUp(`${env.ML_SERVICE_URL}/healthz`),
  waitUntilUp(`${gatewayUrl}/healthz`),
]);
if (mlUp && gatewayUp) {
  console.log(
    [
      '',
      paint(1, 'TokenFlow is running'),
      ...(env.WEB_UI === 'off' ? [] : [`  playground  ${gatewayUrl}/  (open it in a browser)`]),
      `  gateway     ${gatewayUrl}  (tRPC: ${gatewayUrl}/trpc, WebSocket: ws://127.0.0.1:${env.PORT}/trpc)`,
      `  ML service  ${env.ML_SERVICE_URL}${onRay ? ' on Ray Serve' : ''}  (docs: ${env.ML_SERVICE_URL}/docs)`,
      `  readiness   ${gatewayUrl}/readyz`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  reportReadiness(`${gatewayUrl}/readyz`);
} else if (!stopping) {
  stopAll(`a service did not come up within ${onRay ? 5 : 2} minutes`, 1);
}

/** Says once when every model has loaded, or what is still missing after a while. */
async function reportReadiness(url) {
  const started = Date.now();
  let last = '';
  while (!stopping) {
    try {
      const response = await fetch(url);
      const body = await response.json();
      if (response.ok) {
        console.log(`${paint(2, '[start]')} ready: every configured model has loaded`);
        return;
      }
      const summary = JSON.stringify(body.checks ?? body);
      if (summary !== last && Date.now() - started > 5_000) {
        console.log(`${paint(2, '[start]')} not ready yet: ${summary}`);
        last = summary;
      }
    } catch {
      // the gateway is restarting or stopping
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
