import { startMlService } from '@tokenflow/server/test-utils';
import { round, type Summary, summarize } from './stats.ts';

export interface MlConcurrencyOptions {
  clients: number[];
  /** Requests each client sends back to back at each level. */
  requestsPerClient: { classify: number; compress: number };
}

export interface MlConcurrencyRow {
  endpoint: 'classify' | 'compress';
  clients: number;
  requestsPerSecond: number;
  latencyMs: Summary;
  /** Answered 503 (busy) rather than served. */
  busy: number;
}

const PROMPT = 'Write a Python function that merges two sorted lists into one sorted list.';
// About 250 GPT tokens of meeting notes.
const TEXT =
  'The team met on Monday to review the 2026 budget of 48,500 dollars and the launch plan for March. '.repeat(12);

/**
 * The ML service with its offline defaults (MiniLM, SmolLM2 perplexity compression),
 * hit by 1, 4 and 16 clients that each send requests back to back.
 */
export async function mlConcurrency(options: MlConcurrencyOptions): Promise<MlConcurrencyRow[]> {
  const ml = await startMlService({});
  await ml.ready();
  const endpoints = {
    classify: { prompt: PROMPT, possible_categories: null, multi_label: false },
    compress: { text: TEXT, ratio: 0.5 },
  } as const;
  const rows: MlConcurrencyRow[] = [];
  try {
    for (const [endpoint, body] of Object.entries(endpoints) as Array<[keyof typeof endpoints, object]>) {
      const call = () =>
        fetch(`${ml.url}/${endpoint}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      await call(); // warm-up
      for (const clients of options.clients) {
        const latencies: number[] = [];
        let busy = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: clients }, async () => {
            for (let i = 0; i < options.requestsPerClient[endpoint]; i += 1) {
              const sent = performance.now();
              const response = await call();
              await response.arrayBuffer();
              if (response.status === 503) busy += 1;
              else latencies.push(performance.now() - sent);
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        rows.push({
          endpoint,
          clients,
          requestsPerSecond: round(latencies.length / seconds, 1),
          latencyMs: summarize(latencies),
          busy,
        });
        process.stderr.write(`  ML service: ${endpoint} with ${clients} clients done\n`);
      }
    }
  } finally {
    await ml.close();
  }
  return rows;
}
