import { Agent, request } from 'node:http';
import { createTokenFlowClient, streamGenerate } from '@tokenflow/client';
import OpenAI from 'openai';
import WebSocket from 'ws';
import { benchGatewayEnv } from './gateway-overhead.ts';
import { startGateway, startProcess } from './processes.ts';
import { type Summary, summarize } from './stats.ts';

/** ws: the typed client; v1: the openai SDK; rest-http and v1-http: node:http reading the SSE bytes, no SDK. */
export type CachePath = 'ws' | 'v1' | 'rest-http' | 'v1-http';
export interface CacheHitRow {
  path: CachePath;
  /**
   * miss: a prompt never sent before (the upstream answers); hit: one the cache holds, right after a miss;
   * burst: hits back to back, as a busy gateway takes them; direct: the upstream alone.
   */
  kind: 'miss' | 'hit' | 'burst' | 'direct';
  ttftMs: Summary;
  totalMs: Summary;
  samples: number;
}

type Client = ReturnType<typeof createTokenFlowClient>;

async function timeWebSocket(client: Client, content: string) {
  const started = performance.now();
  let ttft = Number.NaN;
  for await (const event of streamGenerate(client, { messages: [{ role: 'user', content }], model: 'bench/bench' })) {
    if (event.type === 'text' && Number.isNaN(ttft)) ttft = performance.now() - started;
  }
  return { ttft, total: performance.now() - started };
}

async function timeOpenAi(openai: OpenAI, model: string, content: string) {
  const started = performance.now();
  let ttft = Number.NaN;
  const stream = await openai.chat.completions.create({ model, messages: [{ role: 'user', content }], stream: true });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content && Number.isNaN(ttft)) ttft = performance.now() - started;
  }
  return { ttft, total: performance.now() - started };
}

const keepAlive = new Agent({ keepAlive: true });

/** A streamed POST read with node:http alone: time to the first bytes that carry answer text. */
function timeRawSse(base: string, path: string, body: object): Promise<{ ttft: number; total: number }> {
  const url = new URL(path, base);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let ttft = Number.NaN;
    const req = request(
      url,
      {
        method: 'POST',
        agent: keepAlive,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.on('data', (bytes: Buffer) => {
          if (Number.isNaN(ttft) && /event: text_chunk|"content":"[^"]/.test(bytes.toString()))
            ttft = performance.now() - started;
        });
        res.on('end', () => resolve({ ttft, total: performance.now() - started }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Time to first token of a cache hit beside a miss, through one gateway with
 * CACHE_MODE=exact (in memory), one stream at a time, alternating: a miss
 * sends a prompt never sent before, a hit repeats one stored earlier. The
 * upstream streams `tokens` chunks `intervalMs` apart, so a miss's first token
 * costs at least the upstream's; a hit calls nothing.
 */
export async function cacheHits(options: { samples: number; tokens: number; intervalMs: number }) {
  const upstream = await startProcess<{ baseURL: string }>('src/synthetic-upstream.ts', {
    TOKENS: String(options.tokens),
    INTERVAL_MS: String(options.intervalMs),
  });
  const gateway = await startGateway({ ...benchGatewayEnv(upstream.ready.baseURL), CACHE_MODE: 'exact' });
  const client = createTokenFlowClient({ url: gateway.ready.url, WebSocket });
  const viaGateway = new OpenAI({ baseURL: `${gateway.ready.url}/v1`, apiKey: 'bench', maxRetries: 0 });
  const straight = new OpenAI({ baseURL: upstream.ready.baseURL, apiKey: 'bench', maxRetries: 0 });
  const messages = (content: string) => [{ role: 'user', content }];
  const run: Record<CachePath, (content: string) => Promise<{ ttft: number; total: number }>> = {
    ws: (content) => timeWebSocket(client, content),
    v1: (content) => timeOpenAi(viaGateway, 'bench/bench', content),
    'rest-http': (content) =>
      timeRawSse(gateway.ready.url, '/api/generate', { model: 'bench/bench', messages: messages(content) }),
    'v1-http': (content) =>
      timeRawSse(gateway.ready.url, '/v1/chat/completions', {
        model: 'bench/bench',
        stream: true,
        messages: messages(content),
      }),
  };
  const paths = Object.keys(run) as CachePath[];
  let unique = 0;
  try {
    const stored = Object.fromEntries(paths.map((path) => [path, `the stored prompt (${path})`])) as Record<
      CachePath,
      string
    >;
    for (const path of paths) {
      await run[path](stored[path]);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the answer is stored just after its end
      // Warm-up, so both paths are measured JIT-compiled, as in a gateway that has served for a while.
      for (let i = 0; i < 5; i += 1) await run[path](`warm-up ${path} ${i}`);
      for (let i = 0; i < 300; i += 1) await run[path](stored[path]);
    }
    const samples = new Map<string, Array<{ ttft: number; total: number }>>();
    const add = (key: string, sample: { ttft: number; total: number }) =>
      samples.set(key, [...(samples.get(key) ?? []), sample]);
    for (let i = 0; i < options.samples; i += 1) {
      for (const path of paths) {
        add(`${path} miss`, await run[path](`a prompt never sent before, number ${unique++}`));
        add(`${path} hit`, await run[path](stored[path]));
      }
      add('v1 direct', await timeOpenAi(straight, 'bench', 'direct'));
    }
    // A gateway idle between two requests wakes up for each; one that serves them back to back does not.
    for (const path of paths) {
      for (let i = 0; i < options.samples * 5; i += 1) add(`${path} burst`, await run[path](stored[path]));
    }
    const rows: CacheHitRow[] = [...samples].map(([key, list]) => {
      const [path, kind] = key.split(' ') as [CachePath, CacheHitRow['kind']];
      return {
        path,
        kind,
        ttftMs: summarize(list.map((s) => s.ttft)),
        totalMs: summarize(list.map((s) => s.total)),
        samples: list.length,
      };
    });
    const metrics = await (await fetch(`${gateway.ready.url}/metrics`)).text();
    const hits = Number(/tokenflow_cache_lookups_total\{kind="exact",result="hit"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    return { rows, hitsCounted: hits };
  } finally {
    await client.close();
    await gateway.stop();
    upstream.child.kill('SIGTERM');
  }
}
