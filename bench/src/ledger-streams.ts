import { createTokenFlowClient } from '@tokenflow/client';
import WebSocket from 'ws';
import { benchGatewayEnv } from './gateway-overhead.ts';
import { type BenchGateway, processUsage, startGateway, startProcess } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';
import { type Client, reasons, safely, type Timing, viaWebSocket } from './stream-clients.ts';

/** off: LEDGER=off; sqlite: the default (a file in TOKENFLOW_DATA_DIR); postgres: DATABASE_URL. */
export type LedgerMode = 'off' | 'sqlite' | 'postgres';

export interface LedgerStreamOptions {
  /** Each round, `concurrency` clients each read `streamsPerClient` streams one after another. */
  levels: Array<{ concurrency: number; rounds: number; streamsPerClient: number }>;
  tokens: number;
  intervalMs: number;
  /** The PostgreSQL gateway's DATABASE_URL; without it, that gateway is left out. */
  databaseUrl?: string | undefined;
}

export interface LedgerStreamRow {
  concurrency: number;
  ledger: LedgerMode;
  ttftMs: Summary;
  totalMs: Summary;
  /** Relayed content tokens per second over the rounds' streaming time. */
  tokensPerSecond: number;
  /** The gateway's CPU per stream over its rounds and the pauses after them (when the last rows are written). */
  gatewayCpuMsPerStream: number;
  gatewayRssMb: number;
  failures: number;
  failureReasons: Array<{ reason: string; streams: number }>;
}

export interface LedgerStreamResult {
  rows: LedgerStreamRow[];
  /** Streams each gateway served (warm-up included) and the rows its usage report counts at the end. */
  recorded: Array<{ ledger: LedgerMode; streams: number; rows: number | null }>;
}

// A round's last rows wait for the writer's timer (LEDGER_FLUSH_MS, 250 ms): wait that out before
// the next gateway's round, so each gateway's writes land in its own rounds or in its own pause.
const SETTLE_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The calling key's request count from the gateway's own usage report (which writes what it holds first). */
async function recordedRows(gateway: BenchGateway): Promise<number> {
  const response = await fetch(`${gateway.ready.url}/api/usage`);
  const report = (await response.json()) as { totals?: { requests?: number } };
  if (!response.ok || report.totals?.requests === undefined) {
    throw new Error(`GET /api/usage answered ${response.status}: ${JSON.stringify(report).slice(0, 200)}`);
  }
  return report.totals.requests;
}

/**
 * The same WebSocket streams (one WebSocket per gateway, as the gateway
 * section's `ws` path) through identical gateways that differ only in the
 * request log: LEDGER=off, SQLite and PostgreSQL, in alternating rounds
 * whose order rotates. Clients read streams back to back, so the rows of
 * finished streams are written while others are still streaming.
 */
export async function ledgerStreams(options: LedgerStreamOptions): Promise<LedgerStreamResult> {
  const upstream = await startProcess<{ baseURL: string }>('src/synthetic-upstream.ts', {
    TOKENS: String(options.tokens),
    INTERVAL_MS: String(options.intervalMs),
  });
  const env = benchGatewayEnv(upstream.ready.baseURL);
  const settings: Array<[LedgerMode, Record<string, string>]> = [
    ['off', { ...env, LEDGER: 'off' }],
    ['sqlite', { ...env, LEDGER: 'on' }],
  ];
  if (options.databaseUrl) settings.push(['postgres', { ...env, LEDGER: 'on', DATABASE_URL: options.databaseUrl }]);
  const modes = settings.map(([mode]) => mode);
  const gateways = new Map<LedgerMode, BenchGateway>();
  const clients = new Map<LedgerMode, Client>();
  const served = new Map<LedgerMode, number>(modes.map((mode) => [mode, 0]));
  const rows: LedgerStreamRow[] = [];
  const recorded: LedgerStreamResult['recorded'] = [];
  try {
    for (const [mode, modeEnv] of settings) {
      const gateway = await startGateway(modeEnv);
      gateways.set(mode, gateway);
      clients.set(mode, createTokenFlowClient({ url: gateway.ready.url, WebSocket }));
    }
    const read = (mode: LedgerMode, concurrency: number, perClient: number) =>
      Promise.all(
        Array.from({ length: concurrency }, async () => {
          const timings: Timing[] = [];
          for (let s = 0; s < perClient; s += 1) {
            timings.push(await safely(() => viaWebSocket(clients.get(mode) as Client))());
          }
          served.set(mode, (served.get(mode) ?? 0) + perClient);
          return timings;
        }),
      ).then((perClientTimings) => perClientTimings.flat());

    for (const mode of modes) {
      await read(mode, 10, 3); // warm-up: JIT, connections, the database's first pages
      await sleep(SETTLE_MS);
    }
    for (const { concurrency, rounds, streamsPerClient } of options.levels) {
      const perMode = <T>(value: () => T) => new Map<LedgerMode, T>(modes.map((mode) => [mode, value()]));
      const timings = perMode<Timing[]>(() => []);
      const wall = perMode(() => 0);
      const cpu = perMode(() => 0);
      const rss = perMode(() => 0);
      for (let roundIndex = 0; roundIndex < rounds; roundIndex += 1) {
        // The order rotates each round so no gateway always runs on a warmer machine.
        const order = modes.map((_, i) => modes[(i + roundIndex) % modes.length] as LedgerMode);
        for (const mode of order) {
          const pid = (gateways.get(mode) as BenchGateway).ready.pid;
          const before = processUsage(pid);
          const started = performance.now();
          (timings.get(mode) as Timing[]).push(...(await read(mode, concurrency, streamsPerClient)));
          wall.set(mode, (wall.get(mode) ?? 0) + performance.now() - started);
          await sleep(SETTLE_MS);
          const after = processUsage(pid);
          cpu.set(mode, (cpu.get(mode) ?? 0) + after.cpuMs - before.cpuMs);
          rss.set(mode, Math.max(rss.get(mode) ?? 0, after.rssMb));
        }
      }
      for (const mode of modes) {
        const all = timings.get(mode) as Timing[];
        const ok = all.filter((t) => !t.failed);
        const failed = all.filter((t) => t.failed);
        const tokens = all.reduce((sum, t) => sum + t.tokens, 0);
        rows.push({
          concurrency,
          ledger: mode,
          ttftMs: summarize(ok.map((t) => t.ttft)),
          totalMs: summarize(ok.map((t) => t.total)),
          tokensPerSecond: round(tokens / ((wall.get(mode) ?? 0) / 1000), 0),
          gatewayCpuMsPerStream: round((cpu.get(mode) ?? 0) / all.length, 2),
          gatewayRssMb: round(rss.get(mode) ?? 0, 1),
          failures: failed.length,
          failureReasons: reasons(failed),
        });
      }
      process.stderr.write(`  ledger streams: ${concurrency} concurrent done\n`);
    }
    for (const mode of modes) {
      const gateway = gateways.get(mode) as BenchGateway;
      recorded.push({
        ledger: mode,
        streams: served.get(mode) ?? 0,
        rows: mode === 'off' ? null : await recordedRows(gateway),
      });
    }
  } finally {
    await Promise.all([...clients.values()].map((client) => client.close()));
    await Promise.all([...gateways.values()].map((gateway) => gateway.stop()));
    upstream.child.kill('SIGTERM');
  }
  return { rows, recorded };
}

/** The ledger's cost: each ledger gateway's percentile minus the LEDGER=off gateway's, in the same rounds. */
export function addedByLedger(rows: LedgerStreamRow[]) {
  return rows
    .filter((row) => row.ledger !== 'off')
    .map((row) => {
      const off = rows.find((o) => o.ledger === 'off' && o.concurrency === row.concurrency);
      const diff = (key: 'ttftMs' | 'totalMs', p: 'p50' | 'p99') =>
        round(row[key][p] - (off?.[key][p] ?? Number.NaN), 2);
      return {
        concurrency: row.concurrency,
        ledger: row.ledger,
        addedTtftMs: { p50: diff('ttftMs', 'p50'), p99: diff('ttftMs', 'p99') },
        addedTotalMs: { p50: diff('totalMs', 'p50'), p99: diff('totalMs', 'p99') },
        tokensPerSecondOfOff: off ? round(row.tokensPerSecond / off.tokensPerSecond, 3) : null,
        addedGatewayCpuMsPerStream: off ? round(row.gatewayCpuMsPerStream - off.gatewayCpuMsPerStream, 2) : null,
      };
    });
}
