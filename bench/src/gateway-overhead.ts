import { createTokenFlowClient } from '@tokenflow/client';
import OpenAI from 'openai';
import WebSocket from 'ws';
import { processUsage, startGateway, startProcess } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';
import { type Client, direct, reasons, safely, type Timing, viaSse, viaWebSocket } from './stream-clients.ts';

export interface OverheadOptions {
  concurrency: number[];
  rounds: number;
  tokens: number;
  intervalMs: number;
  /** A directory: the gateway writes a V8 CPU profile there when it exits (`--profile`). */
  profileDir?: string | undefined;
}

/**
 * direct: the openai client straight to the upstream (the baseline);
 * ws: @tokenflow/client, every stream on one WebSocket; ws10: the same over 10 WebSockets;
 * sse: fetch → POST /api/generate; v1: the openai client → the gateway's /v1.
 */
export const PATHS = ['direct', 'ws', 'ws10', 'sse', 'v1'] as const;
export type Path = (typeof PATHS)[number];

export interface OverheadRow {
  concurrency: number;
  path: Path;
  ttftMs: Summary;
  totalMs: Summary;
  /** Relayed content tokens per second over the path's rounds. */
  tokensPerSecond: number;
  /** Gateway CPU time per stream (ms), per relayed token (µs), and its largest resident memory (MB) during the path's rounds. */
  gatewayCpuMsPerStream: number | null;
  gatewayCpuUsPerToken: number | null;
  gatewayRssMb: number | null;
  /** Streams that failed, and the reasons, most frequent first. */
  failures: number;
  firstFailure: string | null;
  failureReasons: Array<{ reason: string; streams: number }>;
}

/** The gateway's settings for the streaming benchmarks: the synthetic upstream as provider `bench`. */
export const benchGatewayEnv = (upstreamBaseUrl: string): Record<string, string> => ({
  PORT: '0',
  LOG_LEVEL: 'silent',
  TOKENFLOW_PROVIDER_BENCH_BASE_URL: upstreamBaseUrl,
  TOKENFLOW_PROVIDER_BENCH_API_KEY: 'bench-key-123456',
  LOCAL_PROVIDER: 'off',
  WS_MAX_PAYLOAD_BYTES: String(16 * 1024 * 1024),
});

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
  const profiling = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const gateway = await startGateway(benchGatewayEnv(upstream.ready.baseURL), profiling);
  const openai = new OpenAI({ baseURL: upstream.ready.baseURL, apiKey: 'bench', maxRetries: 0 });
  const viaGateway = new OpenAI({ baseURL: `${gateway.ready.url}/v1`, apiKey: 'bench', maxRetries: 0 });
  const client = createTokenFlowClient({ url: gateway.ready.url, WebSocket });
  const clients = Array.from({ length: 10 }, () => createTokenFlowClient({ url: gateway.ready.url, WebSocket }));
  let next = 0;
  const run: Record<Path, () => Promise<Timing>> = {
    direct: safely(() => direct(openai, 'bench')),
    ws: safely(() => viaWebSocket(client)),
    ws10: safely(() => viaWebSocket(clients[next++ % clients.length] as Client)),
    sse: safely(() => viaSse(gateway.ready.url)),
    v1: safely(() => direct(viaGateway, 'bench/bench')),
  };
  const paths = [...PATHS];
  const rows: OverheadRow[] = [];
  try {
    for (const path of paths) await Promise.all(Array.from({ length: 10 }, run[path])); // warm-up
    for (const concurrency of options.concurrency) {
      const perPath = <T>(value: () => T) => Object.fromEntries(paths.map((p) => [p, value()])) as Record<Path, T>;
      const timings = perPath<Timing[]>(() => []);
      const wall = perPath(() => 0);
      const cpu = perPath(() => 0);
      const rss = perPath(() => 0);
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
          failureReasons: reasons(failed),
          tokensPerSecond: round(tokens / (wall[path] / 1000), 0),
          gatewayCpuMsPerStream: path === 'direct' ? null : round(cpu[path] / streams, 3),
          gatewayCpuUsPerToken: path === 'direct' || tokens === 0 ? null : round((cpu[path] * 1000) / tokens, 1),
          gatewayRssMb: path === 'direct' ? null : round(rss[path], 1),
        });
      }
      process.stderr.write(`  gateway overhead: ${concurrency} concurrent streams done\n`);
    }
  } finally {
    await Promise.all([client, ...clients].map((c) => c.close()));
    await gateway.stop(); // its CPU profile, if any, is written on exit
    upstream.child.kill('SIGTERM');
  }
  return rows;
}
