import { type MlServing, startMlService } from '@tokenflow/server/test-utils';
import { startGateway } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';

export interface MlConcurrencyOptions {
  classifyClients: number[];
  compressClients: number[];
  /** Requests each client sends back to back at each level. */
  requestsPerClient: { classify: number; compress: number };
}

/**
 * How the ML service serves: one request at a time (before batching), in batches
 * (the default), or on Ray Serve with two replicas of each model (`npm run ml:ray`).
 */
export type MlMode = 'one-at-a-time' | 'batched' | 'ray-serve';

export interface MlConcurrencyRow {
  mode: MlMode;
  endpoint: 'classify' | 'compress';
  clients: number;
  requestsPerSecond: number;
  latencyMs: Summary;
  /** Answered 503 (busy, with Retry-After) rather than served. */
  refused: number;
  /** How long a refusal took: "at once" means milliseconds, not a queue's wait. */
  refusalMs: Summary;
  /** Anything else: errors, timeouts. Should be 0. */
  failed: number;
}

// The settings each mode changes; the rest are the service's defaults.
const MODES: Record<MlMode, { serving: MlServing; settings: Record<string, string> }> = {
  // What the service did before batching: one worker, eight waiting.
  'one-at-a-time': { serving: 'process', settings: { ML_CLASSIFY_MAX_BATCH: '1', ML_CLASSIFY_MAX_QUEUE: '8' } },
  batched: { serving: 'process', settings: {} },
  'ray-serve': { serving: 'ray', settings: { ML_RAY_CLASSIFIER_REPLICAS: '2', ML_RAY_COMPRESSOR_REPLICAS: '2' } },
};

const SUBJECTS = ['Python', 'Rust', 'a SQL query', 'Go', 'TypeScript', 'a bash script', 'Java', 'C'];
const TASKS = ['merges two sorted lists', 'parses a date', 'reverses a string', 'counts words', 'finds duplicates'];
/** Distinct one-sentence prompts, so no cache could help. */
const prompt = (n: number) =>
  `Write ${SUBJECTS[n % SUBJECTS.length]} that ${TASKS[Math.floor(n / SUBJECTS.length) % TASKS.length]}, request ${n}.`;
// About 250 GPT tokens of meeting notes, varied per request.
const notes = (n: number) =>
  `Meeting ${n}: the team met on Monday to review the 2026 budget of 48,500 dollars and the launch plan for March. `.repeat(
    12,
  );

/**
 * Classify and compress through the gateway's REST API (`/api/*`), by 1 to 256
 * clients sending back to back, against the ML service in each mode.
 */
export async function mlConcurrency(options: MlConcurrencyOptions): Promise<MlConcurrencyRow[]> {
  const rows: MlConcurrencyRow[] = [];
  for (const [mode, { serving, settings }] of Object.entries(MODES) as Array<[MlMode, (typeof MODES)[MlMode]]>) {
    const ml = await startMlService(settings, serving);
    await ml.ready(300_000);
    const gateway = await startGateway({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ML_SERVICE_URL: ml.url,
      LOCAL_PROVIDER: 'off',
    });
    let sent = 0;
    const endpoints = {
      classify: () => ({ prompt: prompt(sent++) }),
      compress: () => ({ text: notes(sent++), ratio: 0.5 }),
    };
    try {
      for (const [endpoint, body] of Object.entries(endpoints) as Array<[keyof typeof endpoints, () => object]>) {
        const call = () =>
          fetch(`${gateway.ready.url}/api/${endpoint}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body()),
          });
        await (await call()).arrayBuffer(); // warm-up
        const levels = endpoint === 'classify' ? options.classifyClients : options.compressClients;
        for (const clients of levels) {
          const latencies: number[] = [];
          const refusals: number[] = [];
          let failed = 0;
          const started = performance.now();
          await Promise.all(
            Array.from({ length: clients }, async () => {
              for (let i = 0; i < options.requestsPerClient[endpoint]; i += 1) {
                const at = performance.now();
                const response = await call().catch(() => null);
                await response?.arrayBuffer();
                const took = performance.now() - at;
                if (response?.status === 200) latencies.push(took);
                else if (response?.status === 503 && response.headers.get('retry-after')) refusals.push(took);
                else failed += 1;
              }
            }),
          );
          const seconds = (performance.now() - started) / 1000;
          rows.push({
            mode,
            endpoint,
            clients,
            requestsPerSecond: round(latencies.length / seconds, 1),
            latencyMs: summarize(latencies),
            refused: refusals.length,
            refusalMs: summarize(refusals),
            failed,
          });
          process.stderr.write(`  ML service (${mode}): ${endpoint} with ${clients} clients done\n`);
        }
      }
    } finally {
      await gateway.stop();
      await ml.close();
    }
  }
  return rows;
}
