import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ReplayUpstream,
  type RunningGateway,
  type RunningMlService,
  type Scenario,
  startGateway,
  startReplayUpstream,
  startTestMlService,
} from '@tokenflow/server/test-utils';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';

export const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const resultsDir = join(webDir, 'test-results');

/** A recording with ~1,000 events: at 20 ms apiece the answer visibly grows for about 20 s. */
export const LONG_ANSWER: Scenario = { fixture: 'groq-thinking-part-iter-0', eventDelayMs: 20 };
/** A model the upstream answers with HTTP 404, as a provider does for an unknown id. */
export const MISSING_MODEL = 'no-such-model';
/** A recording with `delta.reasoning`, so the reasoning panel has something to show. */
export const REASONING_MODEL = 'openrouter-streaming-reasoning';

export interface Stack {
  upstream: ReplayUpstream;
  ml: RunningMlService;
  gateway: RunningGateway;
  /** The environment the gateway runs with, for tests that start another one (e.g. with API keys). */
  gatewayEnv: Record<string, string>;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Everything the playground runs against, for real: the page built by Vite,
 * the replay upstream standing in for Groq, the Python ML service, a gateway
 * serving the page (WEB_DIST_DIR) beside /trpc, and Debian's Chromium.
 */
export async function startStack(): Promise<Stack> {
  mkdirSync(resultsDir, { recursive: true });
  const distDir = mkdtempSync(join(tmpdir(), 'tokenflow-web-'));
  const [upstream, ml] = await Promise.all([
    startReplayUpstream(LONG_ANSWER),
    startTestMlService(),
    buildPage(distDir),
  ]);
  upstream.use(({ body }) => {
    if (body.model === MISSING_MODEL) {
      return { fault: { kind: 'status', status: 404, message: `The model ${MISSING_MODEL} does not exist` } };
    }
    if (body.model === REASONING_MODEL) return { fixture: REASONING_MODEL, eventDelayMs: 5 };
    return LONG_ANSWER;
  });
  const gatewayEnv = {
    GROQ_API_KEY: 'gsk_test',
    GROQ_API_BASE_URL: upstream.baseURL,
    ML_SERVICE_URL: ml.url,
    ROUTING_CLASSIFY_TIMEOUT_MS: '5000',
    WEB_DIST_DIR: distDir,
  };
  const gateway = await startGateway(gatewayEnv);
  const page = await fetch(`${gateway.url}/`);
  const html = await page.text();
  if (!page.ok || !html.includes('TokenFlow playground')) {
    throw new Error(`The gateway does not serve the playground at / (HTTP ${page.status}): ${html.slice(0, 200)}`);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    // Tests run as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox'],
  });
  return {
    upstream,
    ml,
    gateway,
    gatewayEnv,
    browser,
    async close() {
      await browser.close();
      await gateway.close();
      await Promise.all([upstream.close(), ml.close()]);
      rmSync(distDir, { recursive: true, force: true });
    },
  };
}

/**
 * Builds the page as `vite build` does, into its own folder (packages/web/dist
 * is what `npm start` serves, and stays untouched). Vitest sets NODE_ENV=test,
 * which would give React's development build, so production is set for the build.
 */
async function buildPage(outDir: string) {
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      root: webDir,
      configFile: join(webDir, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
