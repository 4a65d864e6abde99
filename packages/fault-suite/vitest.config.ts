import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Each file is its own process with --expose-gc, so heap, fd and timer counts
    // belong to that file's gateway alone; files run one after another so that
    // timings on a small machine are not another file's load.
    pool: 'forks',
    execArgv: ['--expose-gc'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 180_000,
    setupFiles: ['src/harness/setup.ts'],
    globalSetup: ['src/harness/global-setup.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
