// `npm run bench`: runs the benchmarks, prints a table, writes bench/results/latest.json.
//   npm run bench -- --quick     fewer rounds, no 1,000-stream level, short compression inputs: a smoke run
//   npm run bench -- --only=gateway|decision|ml|compression   one section
//   npm run bench -- --only=startup   the gateway's start-up time and memory, tsx against compiled JavaScript
//   npm run bench -- --only=gateway --profile   also a CPU profile of the gateway, summarized (bench/results/profiles/)
//   npm run bench -- --only=decision --backends=embedding,nli    some of its classifier backends
//   npm run bench -- --only=compression --methods=llmlingua2,llmlingua2-int8    some compression methods
//   npm run bench -- --only=ledger   the request log: its writer (SQLite, PostgreSQL) and streams with it on and off
//   npm run bench -- --only=cache    the response cache: the semantic pair set's rates and curve, a hit's TTFT beside a miss
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { chooseThreshold, ratesAt, SEMANTIC_THRESHOLD } from '@tokenflow/server/cache-eval';
import { startPostgresServer } from '@tokenflow/server/test-utils';
import { cacheHits } from './cache-hits.ts';
import { judgedCachePairs } from './cache-pairs.ts';
import { compressionThroughput } from './compression-throughput.ts';
import { decisionLatency } from './decision-latency.ts';
import { gatewayOverhead, type OverheadRow } from './gateway-overhead.ts';
import { gatewayStartup } from './gateway-startup.ts';
import { addedByLedger, ledgerStreams } from './ledger-streams.ts';
import { ledgerWriter, postgresSchema } from './ledger-writer.ts';
import { mlConcurrency } from './ml-concurrency.ts';
import { repoRoot } from './processes.ts';
import { summarizeProfile } from './profile-summary.ts';
import { round } from './stats.ts';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const wanted = (name: string) => !only || only === name;
const backends = process.argv
  .find((arg) => arg.startsWith('--backends='))
  ?.slice('--backends='.length)
  .split(',');
const methods = process.argv
  .find((arg) => arg.startsWith('--methods='))
  ?.slice('--methods='.length)
  .split(',');
// --concurrency=100,1000 runs some levels only.
const levels = process.argv
  .find((arg) => arg.startsWith('--concurrency='))
  ?.slice('--concurrency='.length)
  .split(',')
  .map(Number);
const options = {
  concurrency: levels ?? (quick ? [1, 10, 100] : [1, 10, 100, 1000]),
  rounds: quick ? 3 : 7,
  tokens: 50,
  intervalMs: 10,
};

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGb: round(totalmem() / 1024 ** 3, 1),
  node: process.version,
  date: new Date().toISOString(),
  // Other work on the machine (1, 5 and 15 minutes), as `uptime` shows it, when the run starts.
  loadAverage: loadavg().map((load) => round(load, 2)),
};

const results: Record<string, unknown> = { machine };
const resultsFile = join(repoRoot, 'bench', 'results', 'latest.json');
function previousResults() {
  return existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
}
const cell = (value: number) => String(round(value, 1)).padStart(7);

type Spread = { p50: number; p95: number; p99: number };
/** A streaming row's time to first token and total time, p50/p95/p99, as table cells. */
const latencyCells = (row: { ttftMs: Spread; totalMs: Spread }) => [
  cell(row.ttftMs.p50),
  cell(row.ttftMs.p95),
  cell(row.ttftMs.p99),
  '|',
  cell(row.totalMs.p50),
  cell(row.totalMs.p95),
  cell(row.totalMs.p99),
  '|',
];

if (wanted('gateway')) {
  process.stderr.write(
    `gateway overhead: ${options.tokens} tokens ${options.intervalMs} ms apart, ${options.rounds} alternating rounds\n`,
  );
  const profileDir = profile ? join(repoRoot, 'bench', 'results', 'profiles', String(Date.now())) : undefined;
  const overhead = await gatewayOverhead({ ...options, profileDir });

  console.log(`\nGateway streaming overhead (ms; ${options.tokens} tokens, ${options.intervalMs} ms apart)`);
  console.log(
    'streams  path    ttft p50  p95     p99     | total p50  p95     p99     | tok/s    gw cpu ms/stream  µs/token  gw rss MB',
  );
  for (const row of overhead) {
    console.log(
      [
        String(row.concurrency).padStart(7),
        row.path.padEnd(6),
        ...latencyCells(row),
        String(row.tokensPerSecond).padStart(7),
        String(row.gatewayCpuMsPerStream ?? '-').padStart(17),
        String(row.gatewayCpuUsPerToken ?? '-').padStart(9),
        String(row.gatewayRssMb ?? '-').padStart(10),
        row.failures
          ? `  ${row.failures} failed: ${row.failureReasons
              .slice(0, 3)
              .map((r) => `${r.streams}× ${r.reason}`)
              .join(' | ')}`
          : '',
      ].join(' '),
    );
  }

  /** The gateway's added time: its path's percentile minus the direct path's, per concurrency. */
  function added(rows: OverheadRow[]) {
    return rows
      .filter((r) => r.path !== 'direct')
      .map((r) => {
        const base = rows.find((d) => d.path === 'direct' && d.concurrency === r.concurrency);
        const diff = (key: 'ttftMs' | 'totalMs', p: 'p50' | 'p95' | 'p99') =>
          round(r[key][p] - (base?.[key][p] ?? Number.NaN), 2);
        return {
          concurrency: r.concurrency,
          path: r.path,
          addedTtftMs: { p50: diff('ttftMs', 'p50'), p95: diff('ttftMs', 'p95'), p99: diff('ttftMs', 'p99') },
          addedTotalMs: { p50: diff('totalMs', 'p50'), p95: diff('totalMs', 'p95'), p99: diff('totalMs', 'p99') },
        };
      });
  }
  const overheadAdded = added(overhead);
  console.log('\nAdded by the gateway (its percentile minus the direct percentile, ms)');
  for (const row of overheadAdded) {
    const t = row.addedTtftMs;
    const a = row.addedTotalMs;
    const signed = (v: number) => (v >= 0 ? `+${v}` : `${v}`);
    console.log(
      `${String(row.concurrency).padStart(7)} ${row.path.padEnd(4)} ttft ${signed(t.p50)} / ${signed(t.p95)} / ${signed(t.p99)}   total ${signed(a.p50)} / ${signed(a.p95)} / ${signed(a.p99)}`,
    );
  }
  console.log(
    '\nPublished anchors (other gateways, other machines): TensorZero p99 < 1 ms at 10k QPS; Bifrost ~0.4 ms median;',
    '\nPortkey ~2.4 ms median; LiteLLM ~4-5 ms median (independent sequential tests).',
  );

  const relative = overhead
    .filter((r) => r.path !== 'direct')
    .map((r) => {
      const base = overhead.find((d) => d.path === 'direct' && d.concurrency === r.concurrency);
      return {
        concurrency: r.concurrency,
        path: r.path,
        tokensPerSecondOfDirect: base ? round(r.tokensPerSecond / base.tokensPerSecond, 3) : null,
      };
    });
  console.log('\nTokens/s relayed, as a share of the direct path in the same rounds');
  for (const row of relative) {
    console.log(`${String(row.concurrency).padStart(7)} ${row.path.padEnd(4)} ${row.tokensPerSecondOfDirect}`);
  }
  const profiled = profileDir ? summarizeProfile(profileDir) : null;
  if (profiled) {
    console.log(`\nGateway CPU profile (${profiled.busySamples} busy samples; self time), ${profileDir}`);
    for (const o of profiled.owners) console.log(`  ${String(o.percent).padStart(5)}%  ${o.owner}`);
    console.log('  functions:');
    for (const f of profiled.functions) console.log(`  ${String(f.percent).padStart(5)}%  ${f.fn}  (${f.owner})`);
  }
  Object.assign(results, {
    options,
    gatewayOverhead: overhead,
    gatewayAdded: overheadAdded,
    gatewayShareOfDirect: relative,
    ...(profiled ? { gatewayProfile: profiled } : {}),
  });
}

if (wanted('startup')) {
  process.stderr.write('gateway start-up: transpiled by tsx at start against the compiled JavaScript npm start runs\n');
  const startup = await gatewayStartup(quick ? 3 : 10);
  console.log('\nGateway start-up (spawn until /healthz answers) and resident memory once ready');
  console.log('way        ready p50  p95      | rss MB p50  p95');
  for (const row of startup) {
    console.log(
      `${row.way.padEnd(10)} ${cell(row.readyMs.p50)}  ${cell(row.readyMs.p95)}  | ${cell(row.rssMb.p50)}  ${cell(row.rssMb.p95)}`,
    );
  }
  results.gatewayStartup = startup;
}

if (wanted('decision')) {
  process.stderr.write(
    'selectModel decision latency: embedding (MiniLM, trained head and similarity only) and NLI (BART-large-shaped)\n',
  );
  const decision = await decisionLatency(quick ? 3 : 10, backends);
  console.log("\nselectModel decision latency: its time to first token minus generate's (ms)");
  console.log('backend               categories  added p50  p95      p99      | classify call p50 | generate ttft p50');
  for (const row of decision) {
    const a = row.addedMs;
    console.log(
      `${row.backend.padEnd(21)} ${String(row.categories).padStart(10)} ${cell(a.p50)}  ${cell(a.p95)}  ${cell(a.p99)}  | ${cell(row.classifyCallMs.p50).padStart(17)} | ${cell(row.generateTtftMs.p50)}`,
    );
  }
  // With --backends, the other backends' last rows are kept.
  const kept = backends
    ? (previousResults().decisionLatency ?? []).filter((row: { backend: string }) => !backends.includes(row.backend))
    : [];
  results.decisionLatency = [...decision, ...kept];
}

if (wanted('ml')) {
  process.stderr.write('ML tier under load, through the gateway: one at a time, batched, on Ray Serve\n');
  const ml = await mlConcurrency({
    classifyClients: quick ? [1, 64] : [1, 4, 16, 64, 256],
    compressClients: quick ? [16] : [1, 16],
    requestsPerClient: quick ? { classify: 4, compress: 1 } : { classify: 12, compress: 3 },
  });
  console.log('\nML tier under load, through the gateway (/api/classify, /api/compress; distinct prompts)');
  console.log('mode           endpoint  clients  req/s    latency p50  p95      p99      refused  refusal p99  failed');
  for (const row of ml) {
    const l = row.latencyMs;
    console.log(
      `${row.mode.padEnd(14)} ${row.endpoint.padEnd(9)} ${String(row.clients).padStart(7)} ${String(row.requestsPerSecond).padStart(7)} ${cell(l.p50)}  ${cell(l.p95)}  ${cell(l.p99)}  ${String(row.refused).padStart(7)}  ${cell(row.refusalMs.p99)}  ${String(row.failed).padStart(6)}`,
    );
  }
  results.mlConcurrency = ml;
}
if (wanted('compression')) {
  const ratio = 0.5;
  // The perplexity method takes minutes beyond 8k tokens, so its longest input runs once.
  const fullPlan = quick
    ? {
        llmlingua2: [
          { tokens: 500, rounds: 2 },
          { tokens: 2000, rounds: 2 },
        ],
        'llmlingua2-int8': [
          { tokens: 500, rounds: 2 },
          { tokens: 2000, rounds: 2 },
        ],
        distilled: [
          { tokens: 500, rounds: 2 },
          { tokens: 2000, rounds: 2 },
        ],
        llmlingua: [{ tokens: 500, rounds: 2 }],
      }
    : {
        llmlingua2: [
          { tokens: 500, rounds: 7 },
          { tokens: 2000, rounds: 5 },
          { tokens: 8000, rounds: 3 },
          { tokens: 32000, rounds: 3 },
        ],
        'llmlingua2-int8': [
          { tokens: 500, rounds: 7 },
          { tokens: 2000, rounds: 5 },
          { tokens: 8000, rounds: 3 },
          { tokens: 32000, rounds: 3 },
        ],
        // Its library side is the perplexity method: 32k tokens take it a quarter of an hour, once.
        distilled: [
          { tokens: 500, rounds: 3 },
          { tokens: 2000, rounds: 3 },
          { tokens: 8000, rounds: 1 },
          { tokens: 32000, rounds: 1 },
        ],
        llmlingua: [
          { tokens: 500, rounds: 5 },
          { tokens: 2000, rounds: 3 },
          { tokens: 8000, rounds: 2 },
          { tokens: 32000, rounds: 1 },
        ],
      };
  // --methods=llmlingua2,llmlingua2-int8 runs some of them (the perplexity rows take longest).
  const plan = Object.fromEntries(
    Object.entries(fullPlan).filter(([method]) => !methods || methods.includes(method)),
  ) as typeof fullPlan;
  process.stderr.write(`compression: the ML service against the llmlingua library called directly, ratio ${ratio}\n`);
  const compression = await compressionThroughput({ plan, ratio });
  console.log(
    `\nCompression at ratio ${ratio}: the ML service's /compress against the llmlingua library called directly`,
  );
  console.log(
    'method          tokens  rounds | service p50  p95      inference p50 | direct p50  p95      | tok/s service  direct | kept service  direct | peak RSS MB service direct',
  );
  for (const row of compression) {
    console.log(
      [
        row.method.padEnd(15),
        String(row.inputTokens).padStart(7),
        String(row.rounds).padStart(7),
        '|',
        cell(row.serviceMs.p50),
        ' ',
        cell(row.serviceMs.p95),
        cell(row.serviceInferenceMs.p50).padStart(15),
        '|',
        cell(row.directMs.p50),
        ' ',
        cell(row.directMs.p95),
        '|',
        String(row.serviceTokensPerSecond).padStart(13),
        String(row.directTokensPerSecond).padStart(7),
        '|',
        String(row.serviceKept).padStart(12),
        String(row.directKept).padStart(7),
        '|',
        String(row.servicePeakRssMb).padStart(19),
        String(row.directPeakRssMb).padStart(6),
      ].join(' '),
    );
  }
  // With --methods, the other methods' last rows are kept.
  const keptRows = methods
    ? (previousResults().compression?.rows ?? []).filter((row: { method: string }) => !methods.includes(row.method))
    : [];
  results.compression = { ratio, rows: [...compression, ...keptRows] };
}

if (wanted('ledger')) {
  process.stderr.write('request log (ledger): its writer alone, then streams through gateways with it off and on\n');
  // PostgreSQL as the tests run it (startPostgresServer: fsync and synchronous_commit off); without it, SQLite only.
  const postgres = await startPostgresServer().catch((error: unknown) => {
    process.stderr.write(`  no PostgreSQL, its rows are left out: ${error instanceof Error ? error.message : error}\n`);
    return null;
  });
  try {
    const writer = await ledgerWriter(
      quick
        ? {
            rows: 20_000,
            batches: [
              { rows: 1, repeats: 50 },
              { rows: 100, repeats: 20 },
              { rows: 500, repeats: 20 },
            ],
            adds: 20_000,
          }
        : {
            rows: 100_000,
            batches: [
              { rows: 1, repeats: 200 },
              { rows: 100, repeats: 100 },
              { rows: 500, repeats: 50 },
            ],
            adds: 100_000,
          },
      postgres?.url,
    );
    console.log('\nLedger writer alone (batches of 500, flush timer 250 ms)');
    console.log(
      'backend    rows/s   dropped  peak buffered  loop delay p99  max | flush ms p50 / p99 by batch rows | add() ns p50  p99',
    );
    for (const row of writer) {
      const batches = row.batches.map((b) => `${b.rows}: ${b.ms.p50} / ${b.ms.p99}`).join('  ');
      console.log(
        `${row.backend.padEnd(9)} ${String(row.rowsPerSecond).padStart(7)} ${String(row.dropped).padStart(9)} ${String(row.peakBuffered).padStart(14)} ${cell(row.eventLoopDelayMs.p99)}  ${cell(row.eventLoopDelayMs.max)} | ${batches} | ${cell(row.addNs.p50)} ${cell(row.addNs.p99)}`,
      );
    }

    const streamLevels = (levels ?? [1, 100]).map((concurrency) =>
      concurrency <= 10
        ? { concurrency, rounds: quick ? 3 : 10, streamsPerClient: 4 }
        : { concurrency, rounds: quick ? 2 : 3, streamsPerClient: 3 },
    );
    const streams = await ledgerStreams({
      levels: streamLevels,
      tokens: options.tokens,
      intervalMs: options.intervalMs,
      databaseUrl: postgres ? await postgresSchema(postgres.url, 'gateway') : undefined,
    });
    console.log(
      `\nStreams through the gateway with the ledger off and on (ms; ws, ${options.tokens} tokens ${options.intervalMs} ms apart)`,
    );
    console.log(
      'streams  ledger    ttft p50  p95     p99     | total p50  p95     p99     | tok/s    gw cpu ms/stream  gw rss MB',
    );
    for (const row of streams.rows) {
      console.log(
        [
          String(row.concurrency).padStart(7),
          row.ledger.padEnd(8),
          ...latencyCells(row),
          String(row.tokensPerSecond).padStart(7),
          String(row.gatewayCpuMsPerStream).padStart(17),
          String(row.gatewayRssMb).padStart(10),
          row.failures ? `  ${row.failures} failed: ${row.failureReasons[0]?.reason}` : '',
        ].join(' '),
      );
    }
    const ledgerAdded = addedByLedger(streams.rows);
    console.log('\nAdded by the ledger (its gateway minus the LEDGER=off gateway, ms)');
    const signed = (v: number | null) => (v === null ? '-' : v >= 0 ? `+${v}` : `${v}`);
    for (const row of ledgerAdded) {
      console.log(
        `${String(row.concurrency).padStart(7)} ${row.ledger.padEnd(8)} ttft ${signed(row.addedTtftMs.p50)} / ${signed(row.addedTtftMs.p99)}   total ${signed(row.addedTotalMs.p50)} / ${signed(row.addedTotalMs.p99)}   tokens/s ${row.tokensPerSecondOfOff} of off   cpu ${signed(row.addedGatewayCpuMsPerStream)} ms/stream`,
      );
    }
    for (const r of streams.recorded.filter((r) => r.rows !== null)) {
      console.log(`  ${r.ledger}: ${r.rows} rows recorded for ${r.streams} streams`);
    }
    const loadAfter = loadavg().map((load) => round(load, 2));
    console.log(`\nload average ${machine.loadAverage.join(', ')} at the start, ${loadAfter.join(', ')} at the end`);
    results.ledger = {
      loadAverage: { start: machine.loadAverage, end: loadAfter },
      writer,
      streams: streams.rows,
      added: ledgerAdded,
      recorded: streams.recorded,
    };
  } finally {
    await postgres?.stop();
  }
}

if (wanted('cache')) {
  process.stderr.write('response cache: the semantic pair set under all-MiniLM-L6-v2, then hits beside misses\n');
  const judged = await judgedCachePairs();
  const split = (name: 'dev' | 'test') => judged.filter((pair) => pair.split === name);
  const fine = Array.from({ length: 50 }, (_, i) => round(0.5 + i * 0.01, 2));
  const chosen = chooseThreshold(split('dev'), fine);
  const steps = Array.from({ length: 10 }, (_, i) => round(0.5 + i * 0.05, 2));
  const thresholds = [...new Set([...steps, chosen, SEMANTIC_THRESHOLD, 0.97, 0.99])].sort((a, b) => a - b);
  console.log(
    `\nSemantic cache pair set: threshold chosen on dev ${chosen}, the gateway's default ${SEMANTIC_THRESHOLD}`,
  );
  console.log(
    'threshold | dev: paraphrases hit  near-misses hit (stopped by guard) | test: paraphrases hit  near-misses hit (stopped by guard)',
  );
  const curve = thresholds.map((threshold) => ({
    threshold,
    dev: ratesAt(split('dev'), threshold),
    test: ratesAt(split('test'), threshold),
  }));
  const pct = (rate: number) => `${round(rate * 100, 1)}%`.padStart(6);
  for (const row of curve) {
    console.log(
      `${String(row.threshold).padStart(9)} | ${pct(row.dev.paraphraseHitRate)} ${String(row.dev.nearMissHits).padStart(4)}/${row.dev.nearMisses} (${row.dev.stoppedByGuard}) | ${pct(row.test.paraphraseHitRate)} ${String(row.test.nearMissHits).padStart(4)}/${row.test.nearMisses} (${row.test.stoppedByGuard})`,
    );
  }
  const atDefault = ratesAt(split('test'), SEMANTIC_THRESHOLD);
  console.log(
    `test split at the default ${SEMANTIC_THRESHOLD}: ${pct(atDefault.paraphraseHitRate)} of ${atDefault.paraphrases} paraphrases hit, ${atDefault.nearMissHits} of ${atDefault.nearMisses} near-misses hit`,
  );
  const byCategory = [...new Set(judged.map((p) => `${p.kind}/${p.category}`))].map((name) => {
    const pairs = split('test').filter((p) => `${p.kind}/${p.category}` === name);
    const served = pairs.filter((p) => p.similarity >= SEMANTIC_THRESHOLD && p.guard === null).length;
    return { name, pairs: pairs.length, served };
  });
  for (const row of byCategory) console.log(`  test ${row.name.padEnd(22)} served ${row.served}/${row.pairs}`);

  const hits = await cacheHits({ samples: quick ? 20 : 60, tokens: options.tokens, intervalMs: options.intervalMs });
  console.log(
    `\nA cache hit beside a miss, one stream at a time (ms; ${options.tokens} tokens ${options.intervalMs} ms apart upstream)`,
  );
  console.log('path  kind     ttft p50  p95     p99     | total p50  p95     p99     | samples');
  for (const row of hits.rows) {
    console.log(
      [row.path.padEnd(5), row.kind.padEnd(6), ...latencyCells(row), String(row.samples).padStart(7)].join(' '),
    );
  }
  console.log(`  ${hits.hitsCounted} hits counted by the gateway's tokenflow_cache_lookups_total`);
  results.cache = {
    pairs: { chosenOnDev: chosen, default: SEMANTIC_THRESHOLD, curve, testAtDefault: atDefault, byCategory },
    hits,
  };
}

mkdirSync(dirname(resultsFile), { recursive: true });
// Sections run with --only replace their own entry and keep the others.
writeFileSync(resultsFile, `${JSON.stringify({ ...previousResults(), ...results }, null, 2)}\n`);
console.log(`\nwrote bench/results/latest.json`);
process.exit(0);
