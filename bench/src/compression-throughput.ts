import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { startMlService } from '@tokenflow/server/test-utils';
import { benchModel, venvPython } from './bench-models.ts';
import { repoRoot } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';

export type CompressionMethod = 'llmlingua2' | 'llmlingua';

export interface CompressionOptions {
  /** Rounds per input length (GPT tokens), per method. */
  plan: Record<CompressionMethod, Array<{ tokens: number; rounds: number }>>;
  ratio: number;
}

export interface CompressionRow {
  method: CompressionMethod;
  model: string;
  inputTokens: number;
  rounds: number;
  /** POST /compress on the ML service, measured by the caller (HTTP, validation, queue, inference). */
  serviceMs: Summary;
  /** The service's own elapsed_ms: inference, plus the perplexity method's calibration pass when it runs. */
  serviceInferenceMs: Summary;
  /** PromptCompressor.compress_prompt called directly in a separate Python process. */
  directMs: Summary;
  serviceTokensPerSecond: number;
  directTokensPerSecond: number;
  /** Output size as a share of the input, GPT tokens (asked: options.ratio). */
  serviceKept: number;
  directKept: number;
}

interface Measured {
  ms: number;
  inferenceMs?: number;
  originTokens: number;
  compressedTokens: number;
}

/** The llmlingua library driven directly, one JSON line per call (bench/src/compression-direct.py). */
class DirectLibrary {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];

  private constructor(method: CompressionMethod, model: string) {
    this.child = spawn(venvPython, [join(repoRoot, 'bench', 'src', 'compression-direct.py'), method, model], {
      env: { ...process.env, HF_HUB_OFFLINE: '1' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
  }

  static async start(method: CompressionMethod, model: string): Promise<DirectLibrary> {
    const library = new DirectLibrary(method, model);
    await new Promise<void>((resolve, reject) => {
      library.child.once('exit', (code) => reject(new Error(`compression-direct.py exited with ${code}`)));
      library.pending.push(() => resolve());
    });
    return library;
  }

  private call<T>(message: object): Promise<T> {
    return new Promise((resolve) => {
      this.pending.push((line) => resolve(JSON.parse(line) as T));
      this.child.stdin?.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Meeting-notes-like texts of exactly these many GPT (cl100k) tokens. */
  async texts(tokens: number[]): Promise<Map<number, string>> {
    const reply = await this.call<{ texts: Record<string, string> }>({ op: 'sample', tokens });
    return new Map(Object.entries(reply.texts).map(([n, text]) => [Number(n), text]));
  }

  compress(text: string, rate: number): Promise<Measured> {
    return this.call({ op: 'compress', text, rate });
  }

  close() {
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
  }
}

/** POST without a client-side timeout: compressing 32k tokens with SmolLM2 takes minutes (fetch gives up at 300 s). */
function postJson(url: string, body: object): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function viaService(url: string, text: string, ratio: number): Promise<Measured> {
  const started = performance.now();
  const { status, json } = await postJson(`${url}/compress`, { text, ratio });
  const ms = performance.now() - started;
  if (status !== 200) throw new Error(`/compress answered ${status}: ${JSON.stringify(json).slice(0, 300)}`);
  return {
    ms,
    inferenceMs: Number(json.elapsed_ms),
    originTokens: Number(json.origin_tokens),
    compressedTokens: Number(json.compressed_tokens),
  };
}

/** SmolLM2-135M-Instruct as the setup step materialised it: the service's default compressor model. */
const localSmolLM2 = () =>
  execFileSync(venvPython, ['-c', 'from tokenflow_ml.local_model import local_model_path; print(local_model_path())'], {
    encoding: 'utf8',
  }).trim();

const compressorModels = () => ({
  llmlingua2: { label: 'mBERT-base-shaped (random weights)', path: benchModel('mbert-base') },
  llmlingua: { label: 'SmolLM2-135M-Instruct', path: localSmolLM2() },
});

/**
 * Compression latency and tokens per second by input length: the ML service's
 * /compress against the llmlingua library called directly on the same model,
 * in alternating order, for LLMLingua-2 and for the perplexity method.
 */
export async function compressionThroughput(options: CompressionOptions): Promise<CompressionRow[]> {
  const rows: CompressionRow[] = [];
  const models = compressorModels();
  for (const method of Object.keys(options.plan) as CompressionMethod[]) {
    const model = models[method];
    const ml = await startMlService({ ML_COMPRESSOR_BACKEND: method, ML_COMPRESSOR_MODEL: model.path });
    const library = await DirectLibrary.start(method, model.path);
    try {
      await ml.ready(600_000);
      const plan = options.plan[method];
      const texts = await library.texts(plan.map((p) => p.tokens));
      const shortest = texts.get(plan[0]?.tokens ?? 0) ?? '';
      await viaService(ml.url, shortest, options.ratio); // warm-up
      await library.compress(shortest, options.ratio);
      for (const { tokens, rounds } of plan) {
        const text = texts.get(tokens) ?? '';
        const service: Measured[] = [];
        const direct: Measured[] = [];
        for (let r = 0; r < rounds; r += 1) {
          // Alternate which goes first, so neither always meets a warmer machine.
          if (r % 2 === 0) {
            service.push(await viaService(ml.url, text, options.ratio));
            direct.push(await library.compress(text, options.ratio));
          } else {
            direct.push(await library.compress(text, options.ratio));
            service.push(await viaService(ml.url, text, options.ratio));
          }
        }
        const median = (runs: Measured[]) => summarize(runs.map((m) => m.ms)).p50;
        const kept = (runs: Measured[]) =>
          round(runs.reduce((sum, m) => sum + m.compressedTokens / m.originTokens, 0) / runs.length, 3);
        rows.push({
          method,
          model: model.label,
          inputTokens: tokens,
          rounds,
          serviceMs: summarize(service.map((m) => m.ms)),
          serviceInferenceMs: summarize(service.map((m) => m.inferenceMs ?? Number.NaN)),
          directMs: summarize(direct.map((m) => m.ms)),
          serviceTokensPerSecond: round((tokens / median(service)) * 1000, 0),
          directTokensPerSecond: round((tokens / median(direct)) * 1000, 0),
          serviceKept: kept(service),
          directKept: kept(direct),
        });
        process.stderr.write(`  compression: ${method} at ${tokens} tokens done\n`);
      }
    } finally {
      library.close();
      await ml.close();
    }
  }
  return rows;
}
