import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { startMlService } from '@tokenflow/server/test-utils';
import { benchModel, venvPython } from './bench-models.ts';
import { repoRoot } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';

/**
 * `llmlingua2` runs ONNX Runtime in fp32, `llmlingua2-int8` in int8, each beside the library's
 * LLMLingua-2 on the same model; `distilled` (the offline default, MiniLM) and `llmlingua`
 * (SmolLM2's perplexity) each beside the library's perplexity method on SmolLM2.
 */
export type CompressionMethod = 'llmlingua2' | 'llmlingua2-int8' | 'distilled' | 'llmlingua';

const serviceSettings: Record<CompressionMethod, { backend: string; runtime: string; library: string }> = {
  llmlingua2: { backend: 'llmlingua2', runtime: 'onnx', library: 'llmlingua2' },
  'llmlingua2-int8': { backend: 'llmlingua2', runtime: 'onnx-int8', library: 'llmlingua2' },
  distilled: { backend: 'distilled', runtime: 'onnx', library: 'llmlingua' },
  llmlingua: { backend: 'llmlingua', runtime: 'onnx', library: 'llmlingua' },
};

/** A process's peak resident memory so far (VmHWM), in MB. */
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return round(kb / 1024, 0);
}

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
  /** Peak resident memory of each process once this length has run (model included), MB. */
  servicePeakRssMb: number;
  directPeakRssMb: number;
}

interface Measured {
  ms: number;
  inferenceMs?: number;
  originTokens: number;
  compressedTokens: number;
}

/** The llmlingua library driven directly, one JSON line per call (bench/src/compression-direct.py). */
class DirectLibrary {
  readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];

  private constructor(method: string, model: string) {
    this.child = spawn(venvPython, [join(repoRoot, 'bench', 'src', 'compression-direct.py'), method, model], {
      env: { ...process.env, HF_HUB_OFFLINE: '1' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
  }

  static async start(method: string, model: string): Promise<DirectLibrary> {
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

const bundledMiniLM = () =>
  execFileSync(venvPython, ['-c', 'from tokenflow_ml.settings import bundled_minilm; print(bundled_minilm())'], {
    encoding: 'utf8',
  }).trim();

/** The service's model and the library's (the same, except for the distilled scorer's teacher). */
const compressorModels = (): Record<CompressionMethod, { label: string; path: string; library: string }> => {
  const mbert = benchModel('mbert-base');
  const smollm2 = localSmolLM2();
  return {
    llmlingua2: { label: 'mBERT-base-shaped (random weights), ONNX fp32', path: mbert, library: mbert },
    'llmlingua2-int8': { label: 'mBERT-base-shaped (random weights), ONNX int8', path: mbert, library: mbert },
    distilled: { label: 'MiniLM distilled (library: SmolLM2)', path: bundledMiniLM(), library: smollm2 },
    llmlingua: { label: 'SmolLM2-135M-Instruct', path: smollm2, library: smollm2 },
  };
};

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
    const settings = serviceSettings[method];
    const ml = await startMlService({
      ML_COMPRESSOR_BACKEND: settings.backend,
      ML_COMPRESSOR_RUNTIME: settings.runtime,
      ML_COMPRESSOR_MODEL: model.path,
    });
    const library = await DirectLibrary.start(settings.library, model.library);
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
          servicePeakRssMb: peakRssMb(ml.process.pid),
          directPeakRssMb: peakRssMb(library.child.pid),
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
