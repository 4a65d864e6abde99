import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ReplayUpstream,
  type RunningGateway,
  type RunningMlService,
  startGateway,
  startReplayUpstream,
  startTestMlService,
} from '../../test-utils/index.ts';
import { auth, gatewayEnv, KEYS, RECORDING } from '../ledger/gateway.test-kit.ts';

let upstream: ReplayUpstream;
let ml: RunningMlService;
let gateway: RunningGateway;
const dataDir = mkdtempSync(join(tmpdir(), 'tokenflow-semantic-cache-'));

beforeAll(async () => {
  [upstream, ml] = await Promise.all([startReplayUpstream({ fixture: RECORDING }), startTestMlService()]);
  gateway = await startGateway({
    ...(await gatewayEnv(upstream.baseURL)),
    ML_SERVICE_URL: ml.url,
    TOKENFLOW_DATA_DIR: dataDir,
    CACHE_MODE: 'semantic',
    // A busy test machine must not make routing give up on the classifier (and so on its embedding).
    ROUTING_CLASSIFY_TIMEOUT_MS: '10000',
  });
}, 180_000);
afterAll(async () => {
  await gateway?.close();
  await Promise.all([ml?.close(), upstream?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** tokenflow/auto (selectModel) over /v1, not streamed: the answer, its cache header and `tokenflow.cache`. */
async function ask(content: string, messages: object[] = []) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(KEYS.alice) },
    body: JSON.stringify({ model: 'tokenflow/auto', messages: [...messages, { role: 'user', content }] }),
  });
  const body = (await response.json()) as {
    choices: Array<{ message: { content: string } }>;
    tokenflow: { cache: { hit: string; similarity: number } | null; notes: string[] };
  };
  return { status: response.status, header: response.headers.get('x-tokenflow-cache'), body };
}

describe('the semantic cache (CACHE_MODE=semantic, all-MiniLM-L6-v2)', () => {
  it('answers a reworded question from the cache, and a question about another country upstream', async () => {
    const stored = await ask('What is the capital of Australia?');
    const before = upstream.requests.length;

    const reworded = await ask('what is the capital of australia');
    const other = await ask('What is the capital of Austria?');

    expect(stored.header).toBeNull();
    expect(reworded.header).toMatch(/^hit; kind=semantic; similarity=0\.9/);
    expect(reworded.body.tokenflow.cache).toMatchObject({ hit: 'semantic' });
    expect(reworded.body.tokenflow.notes[0]).toMatch(/answered from the cache: a similar request/);
    expect(reworded.body.choices[0]?.message.content).toBe(stored.body.choices[0]?.message.content);
    expect(other.header).toBeNull();
    expect(upstream.requests.length - before).toBe(1);
    const metrics = await (await fetch(`${gateway.url}/metrics`, { headers: auth(KEYS.alice) })).text();
    expect(metrics).toMatch(/tokenflow_cache_lookups_total\{kind="semantic",result="hit"\} 1/);
  });

  it('lets the false-hit guard refuse a question that is as close as can be but has another number', async () => {
    await ask('What is 12 + 30?');
    const before = upstream.requests.length;

    const changed = await ask('What is 12 + 31?');

    expect(changed.header).toBeNull();
    expect(upstream.requests.length - before).toBe(1);
    const metrics = await (await fetch(`${gateway.url}/metrics`, { headers: auth(KEYS.alice) })).text();
    expect(metrics).toMatch(/tokenflow_cache_guard_refusals_total\{reason="numbers"\} 1/);
  });

  it('never answers across conversations: the same question after other turns goes upstream', async () => {
    await ask('How tall is Mount Everest?');
    const before = upstream.requests.length;

    const inConversation = await ask('how tall is mount everest', [
      { role: 'user', content: 'Answer in feet.' },
      { role: 'assistant', content: 'Sure.' },
    ]);

    expect(inConversation.header).toBeNull();
    expect(upstream.requests.length - before).toBe(1);
  });
});
