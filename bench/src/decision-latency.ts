import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenFlowClient, streamGenerate, streamSelectModel } from '@tokenflow/client';
import { bundledMiniLM, startMlService, tinyModels } from '@tokenflow/server/test-utils';
import WebSocket from 'ws';
import { benchModel } from './bench-models.ts';
import { startGateway, startProcess } from './processes.ts';
import { type Summary, summarize } from './stats.ts';

const CATEGORIES = ['reasoning', 'code', 'function-calling', 'text-to-text', 'creative', 'general'];
const PROMPT = 'Write a Python function that merges two sorted lists into one sorted list.';

export interface DecisionRow {
  backend: 'embedding' | 'embedding-similarity' | 'nli';
  categories: number;
  /** selectModel's time to first token minus generate's, each round. */
  addedMs: Summary;
  generateTtftMs: Summary;
  /** The gateway's own timing of its classify call to the ML service (metadata.classificationMs). */
  classifyCallMs: Summary;
}

/**
 * What choosing a model costs: selectModel and generate stream from the same
 * instant upstream in alternating rounds; the difference in time to first
 * token is classification (1-6 categories) plus routing.
 */
export async function decisionLatency(rounds: number, only?: readonly string[]): Promise<DecisionRow[]> {
  const upstream = await startProcess<{ baseURL: string }>('src/synthetic-upstream.ts', {
    TOKENS: '5',
    INTERVAL_MS: '0',
  });
  const catalogPath = join(mkdtempSync(join(tmpdir(), 'tokenflow-bench-')), 'catalog.json');
  const everywhere = Object.fromEntries(CATEGORIES.map((c) => [c, 1]));
  writeFileSync(
    catalogPath,
    JSON.stringify({
      defaultCategory: 'general',
      models: [
        {
          provider: 'bench',
          model: 'bench',
          categories: everywhere,
          contextWindow: 131072,
          price: { inputPerMTok: 0, outputPerMTok: 0 },
        },
      ],
    }),
  );
  const backends = {
    // The trained head over the categories it knows (the default), and zero-shot similarity alone.
    embedding: { ML_CLASSIFIER_BACKEND: 'embedding', ML_CLASSIFIER_MODEL: bundledMiniLM() },
    'embedding-similarity': {
      ML_CLASSIFIER_BACKEND: 'embedding',
      ML_CLASSIFIER_MODEL: bundledMiniLM(),
      ML_ROUTING_HEAD: 'off',
    },
    nli: { ML_CLASSIFIER_BACKEND: 'nli', ML_CLASSIFIER_MODEL: benchModel('nli-large') },
  } as const;
  const rows: DecisionRow[] = [];
  try {
    for (const [backend, settings] of Object.entries(backends) as Array<
      [keyof typeof backends, Record<string, string>]
    >) {
      if (only && !only.includes(backend)) continue;
      const ml = await startMlService({
        ...settings,
        ML_COMPRESSOR_BACKEND: 'llmlingua2',
        ML_COMPRESSOR_MODEL: tinyModels().llmlingua2,
      });
      await ml.ready(300_000);
      const gateway = await startGateway({
        PORT: '0',
        LOG_LEVEL: 'silent',
        ML_SERVICE_URL: ml.url,
        TOKENFLOW_CATALOG: catalogPath,
        TOKENFLOW_PROVIDER_BENCH_BASE_URL: upstream.ready.baseURL,
        TOKENFLOW_PROVIDER_BENCH_API_KEY: 'bench-key-123456',
        LOCAL_PROVIDER: 'off',
        // Never fall back to "unclassified": the point is to time the classifier.
        ROUTING_CLASSIFY_TIMEOUT_MS: '120000',
        ROUTING_CONFIDENCE_THRESHOLD: '0',
      });
      const client = createTokenFlowClient({ url: gateway.ready.url, WebSocket });
      const classifyCalls: number[] = [];
      const firstToken = async (events: AsyncIterable<{ type: string; classificationMs?: number }>) => {
        const started = performance.now();
        let ttft = Number.NaN;
        for await (const event of events) {
          if (event.type === 'metadata' && event.classificationMs !== undefined) {
            classifyCalls.push(event.classificationMs);
          }
          if (event.type === 'text' && Number.isNaN(ttft)) ttft = performance.now() - started;
        }
        return ttft;
      };
      const generate = () => firstToken(streamGenerate(client, { prompt: PROMPT, model: 'bench/bench' }));
      const select = (k: number) =>
        firstToken(streamSelectModel(client, { prompt: PROMPT, possibleCategories: CATEGORIES.slice(0, k) }));
      try {
        // Warm-up: whichever setting ran first used to come out ~1.5 ms slower, generate's
        // own time to first token included (the gateway's JIT, fresh sockets).
        for (let r = 0; r < 20; r += 1) {
          await generate();
          await select(6);
        }
        for (let k = 1; k <= CATEGORIES.length; k += 1) {
          const added: number[] = [];
          const base: number[] = [];
          classifyCalls.length = 0;
          // NLI takes seconds a call; the embedding rows can afford a steadier median.
          const settingRounds = backend === 'nli' ? rounds : rounds * 4;
          for (let r = 0; r < settingRounds; r += 1) {
            // Alternate which goes first, so neither always meets a warmer machine.
            let chosen: number;
            let plain: number;
            if (r % 2 === 0) {
              chosen = await select(k);
              plain = await generate();
            } else {
              plain = await generate();
              chosen = await select(k);
            }
            base.push(plain);
            added.push(chosen - plain);
          }
          rows.push({
            backend,
            categories: k,
            addedMs: summarize(added),
            generateTtftMs: summarize(base),
            classifyCallMs: summarize(classifyCalls),
          });
        }
        process.stderr.write(`  decision latency: ${backend} done\n`);
      } finally {
        await client.close();
        await gateway.stop();
        await ml.close();
      }
    }
  } finally {
    upstream.child.kill('SIGTERM');
  }
  return rows;
}
