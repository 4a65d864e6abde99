// `npm test`: sets up what is missing, then runs every linter, type check and
// test (TypeScript and Python) through turbo, and ends with one summary line.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { root, setup, toolEnv } from './setup.mjs';

setup({ tests: true });

const packages = ['server', 'client', 'ml-python', 'fault-suite', 'web'].map((name) => join(root, 'packages', name));
for (const dir of packages) rmSync(join(dir, 'test-results'), { recursive: true, force: true });

// The packages lint themselves under turbo; the root's own scripts are checked here.
const rootLint = spawnSync(join(root, 'node_modules', '.bin', 'biome'), ['ci', 'scripts', 'biome.json', 'turbo.json'], {
  cwd: root,
  stdio: 'inherit',
});

const turboRun = (tasks, concurrency) =>
  spawnSync(
    join(root, 'node_modules', '.bin', 'turbo'),
    [
      'run',
      ...tasks,
      '--continue',
      `--concurrency=${concurrency}`,
      '--output-logs=errors-only',
      ...process.argv.slice(2),
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: toolEnv({ TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', FORCE_COLOR: '1' }),
    },
  );
// Linters and type checks start nothing and time nothing: two at a time, one per core.
const checks = turboRun(['lint', 'typecheck'], 2);
// The suites one at a time: they start real services and models, and on two cores
// side-by-side runs turn timing into flakiness.
const suites = turboRun(['test'], 1);
const turbo = { status: checks.status || suites.status };

/** Counts from vitest's JSON report and pytest's JUnit XML, whichever each package wrote. */
function count(dir) {
  const vitest = join(dir, 'test-results', 'vitest.json');
  if (existsSync(vitest)) {
    const report = JSON.parse(readFileSync(vitest, 'utf8'));
    return {
      passed: report.numPassedTests,
      // A file that fails to load has no failed test of its own: count it as one.
      failed:
        report.numFailedTests +
        report.testResults.filter(
          (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
        ).length,
      skipped: report.numPendingTests + report.numTodoTests,
    };
  }
  const junit = join(dir, 'test-results', 'pytest.xml');
  if (existsSync(junit)) {
    const suite = readFileSync(junit, 'utf8').match(/<testsuite [^>]*>/)?.[0] ?? '';
    const attr = (name) => Number(suite.match(new RegExp(` ${name}="(\\d+)"`))?.[1] ?? 0);
    const failed = attr('failures') + attr('errors');
    const skipped = attr('skipped');
    return { passed: attr('tests') - failed - skipped, failed, skipped };
  }
  return { passed: 0, failed: 0, skipped: 0, missing: true };
}

const totals = { passed: 0, failed: 0, skipped: 0 };
for (const dir of packages) {
  const counts = count(dir);
  const name = dir.split('/').at(-1);
  console.log(
    `  ${name.padEnd(11)} ${counts.missing ? 'no test report' : `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`}`,
  );
  // With extra turbo arguments (e.g. --filter) a package may rightly not run.
  if (counts.missing && process.argv.length <= 2) totals.failed += 1;
  for (const key of Object.keys(totals)) totals[key] += counts[key] ?? 0;
}
// The fault suite's own summary: what the injected faults answered, and whether anything leaked.
const faultReport = join(root, 'packages', 'fault-suite', 'test-results', 'fault-suite.json');
if (existsSync(faultReport)) {
  const report = JSON.parse(readFileSync(faultReport, 'utf8'));
  const byCode = Object.entries(report.errorsByCode)
    .sort(([, a], [, b]) => b - a)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  console.log(
    `  fault suite: ${report.cases} cases, errors by code: ${byCode || 'none'}, leaks found: ${report.leaksFound}`,
  );
}
const checksPassed = turbo.status === 0 && rootLint.status === 0;
const ok = checksPassed && totals.failed === 0;
if (!checksPassed && totals.failed === 0) console.log('  (a linter or type check failed: see above)');
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(ok ? 0 : 1);
