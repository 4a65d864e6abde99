import { createTokenFlowClient, streamGenerate } from '@tokenflow/client';
import OpenAI from 'openai';
import WebSocket from 'ws';
import { processUsage, startProcess } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';

export interface OverheadOptions {
  concurrency: number[];
  rounds: number;
  tokens: number;
  intervalMs: number;
}

type Path = 'direct' | 'ws' | 'sse';
type Timing = { ttft: number; total: number; tokens: number; failed?: string };

/** A stream that fails is counted, not allowed to stop the whole benchmark. */
const safely = (attempt: () => Promise<Timing>) => (): Promise<Timing> =>
  attempt().catch((error: unknown) => ({
    ttft: Number.NaN,
    total: Number.NaN,
    tokens: 0,
    failed: error instanceof Error ? error.message : String(error),
  }));

const messages = [{ role: 'user' as const, content: 'benchmark' }];

async function direct(openai: OpenAI): Promise<Timing> {
  const started = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  const stream = await openai.chat.completions.create({ model: 'bench', messages, stream: true });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) {
      if (tokens++ === 0) ttft = performance.now() - started;
    }
  }
  return { ttft, total: performance.now() - started, tokens };
}

async function viaWebSocket(client: ReturnType<typeof createTokenFlowClient>): Promise<Timing> {
  const started = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  for await (const event of streamGenerate(client, { messages, model: 'bench/bench' })) {
    if (event.type === 'text' && tokens++ === 0) ttft = performance.now() - started;
  }
  return { ttft, total: performance.now() - started, tokens };
}

async function viaSse(gatewayUrl: string): Promise<Timing> {
  const started = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  const response = await fetch(`${gatewayUrl}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages, model: 'bench/bench' }),
  });
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let boundary = buffer.indexOf('\n\n');
    while (boundary >= 0) {
      if (buffer.startsWith('event: text_chunk') && tokens++ === 0) ttft = performance.now() - started;
      buffer = buffer.slice(boundary + 2);
      boundary = buffer.indexOf('\n\n');
    }
  }
  return { ttft, total: performance.now() - started, tokens };
}

export interface OverheadRow {
  concurrency: number;
  path: Path;
  ttftMs: Summary;
  totalMs: Summary;
  /** Relayed content tokens per second over the path's rounds. */
  tokensPerSecond: number;
  /** Gateway CPU time per stream (ms) and its largest resident memory (MB) during the path's rounds. */
  gatewayCpuMsPerStream: number | null;
  gatewayRssMb: number | null;
  /** Streams that failed, with the first reason. */
  failures: number;
  firstFailure: string | null;
}

/**
 * Streams through the gateway (WebSocket and REST/SSE) against the same
 * streams straight from the upstream with the openai client, in alternating
 * rounds at each concurrency, and reports both so the added time can be read off.
 */
export async function gatewayOverhead(options: OverheadOptions): Promise<OverheadRow[]> {
  const upstream = await startProcess<{ baseURL: string }>('src/synthetic-upstream.ts', {
    TOKENS: String(options.tokens),
    INTERVAL_MS: String(options.intervalMs),
  });
  const gateway = await startProcess<{ url: string; pid: number }>('src/gateway-process.ts', {
    PORT: '0',
    LOG_LEVEL: 'silent',
    TOKENFLOW_PROVIDER_BENCH_BASE_URL: upstream.ready.baseURL,
    TOKENFLOW_PROVIDER_BENCH_API_KEY: 'bench-key-123456',
    LOCAL_PROVIDER: 'off',
    WS_MAX_PAYLOAD_BYTES: String(16 * 1024 * 1024),
  });
  const openai = new OpenAI({ baseURL: upstream.ready.baseURL, apiKey: 'bench', maxRetries: 0 });
  const client = createTokenFlowClient({ url: gateway.ready.url, WebSocket });
  const run: Record<Path, () => Promise<Timing>> = {
    direct: safely(() => direct(openai)),
    ws: safely(() => viaWebSocket(client)),
    sse: safely(() => viaSse(gateway.ready.url)),
  };
  const paths: Path[] = ['direct', 'ws', 'sse'];
  const rows: OverheadRow[] = [];
  try {
    for (const path of paths) await Promise.all(Array.from({ length: 10 }, run[path])); // warm-up
    for (const concurrency of options.concurrency) {
      const timings: Record<Path, Timing[]> = { direct: [], ws: [], sse: [] };
      const wall: Record<Path, number> = { direct: 0, ws: 0, sse: 0 };
      const cpu: Record<Path, number> = { direct: 0, ws: 0, sse: 0 };
      const rss: Record<Path, number> = { direct: 0, ws: 0, sse: 0 };
      for (let roundIndex = 0; roundIndex < options.rounds; roundIndex += 1) {
        // Alternate the order each round so no path always runs on a warmer machine.
        const order = paths.map((_, i) => paths[(i + roundIndex) % paths.length] as Path);
        for (const path of order) {
          const before = processUsage(gateway.ready.pid);
          const started = performance.now();
          timings[path].push(...(await Promise.all(Array.from({ length: concurrency }, run[path]))));
          wall[path] += performance.now() - started;
          const after = processUsage(gateway.ready.pid);
          cpu[path] += after.cpuMs - before.cpuMs;
          rss[path] = Math.max(rss[path], after.rssMb);
        }
      }
      for (const path of paths) {
        const streams = timings[path].length;
        const tokens = timings[path].reduce((sum, t) => sum + t.tokens, 0);
        const ok = timings[path].filter((t) => !t.failed);
        const failed = timings[path].filter((t) => t.failed);
        rows.push({
          concurrency,
          path,
          ttftMs: summarize(ok.map((t) => t.ttft)),
          totalMs: summarize(ok.map((t) => t.total)),
          failures: failed.length,
          firstFailure: failed[0]?.failed ?? null,
          tokensPerSecond: round(tokens / (wall[path] / 1000), 0),
          gatewayCpuMsPerStream: path === 'direct' ? null : round(cpu[path] / streams, 3),
          gatewayRssMb: path === 'direct' ? null : round(rss[path], 1),
        });
      }
      process.stderr.write(`  gateway overhead: ${concurrency} concurrent streams done\n`);
    }
  } finally {
    await client.close();
    gateway.child.kill('SIGTERM');
    upstream.child.kill('SIGTERM');
  }
  return rows;
}
