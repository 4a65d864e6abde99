// The ML service on Ray Serve (`npm run ml:ray`): a single-node cluster, two classifier
// replicas, the gateway in front with only ML_SERVICE_URL changed. The classify, compress
// and selectModel suites are the ones the one-process service passes.
import { readFileSync } from 'node:fs';
import { processesUnder, startMlService, startTestMlService } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTokenFlowError, streamGenerate, type TokenFlowClient } from './index.ts';
import { describeClassifyAndCompress } from './test/ml-suite.ts';
import { describeSelectModel } from './test/select-model-suite.ts';
import { type MlStack, startMlStack } from './test/stack.ts';

describeClassifyAndCompress('ray');
describeSelectModel('ray');

/** The pids of a deployment's replicas in the cluster started by `launcher`. */
const replicaPids = (launcher: number, deployment: string) =>
  processesUnder(launcher)
    .filter((p) => p.args.includes(`ServeReplica:tokenflow-ml:${deployment}`))
    .map((p) => p.pid);

async function replicasRunning(mlUrl: string, deployment: string): Promise<number> {
  const readiness = (await (await fetch(`${mlUrl}/readyz`)).json()) as {
    replicas?: Record<string, { replicas: Record<string, number> }>;
  };
  return readiness.replicas?.[deployment]?.replicas.RUNNING ?? 0;
}

/** Ray starts replicas one by one: the service is ready with one, the layout complete later. */
async function untilRunning(mlUrl: string, deployment: string, count: number, timeoutMs = 90_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let running = await replicasRunning(mlUrl, deployment);
  while (running < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    running = await replicasRunning(mlUrl, deployment);
  }
  return running;
}

describe('on Ray Serve, when a classifier replica is killed mid-load', () => {
  let stack: MlStack;

  beforeAll(async () => {
    // The defaults: two replicas take 16 classifications each at once, 128 more may wait.
    stack = await startMlStack(startTestMlService({}, 'ray'));
  }, 300_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it('reports each deployment and its replicas in /readyz', { timeout: 120_000 }, async () => {
    expect(await untilRunning(stack.ml.url, 'classifier', 2)).toBe(2);
    const readiness = await (await fetch(`${stack.ml.url}/readyz`)).json();

    expect(readiness).toMatchObject({
      ready: true,
      models: { classifier: { status: 'ready' }, compressor: { status: 'ready' } },
      replicas: {
        classifier: { status: 'HEALTHY', replicas: { RUNNING: 2 } },
        compressor: { status: 'HEALTHY', replicas: { RUNNING: 1 } },
      },
    });
  });

  it('loses no request and none hangs: each is served', async () => {
    const victims = replicaPids(stack.ml.process.pid as number, 'classifier');
    expect(victims).toHaveLength(2);
    const total = 96;
    let next = 0;
    let done = 0;
    const outcomes: string[] = [];
    let killed = false;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const call = stack.client.trpc.classify.mutate({
          prompt: `Request ${i}: write a SQL query that counts orders.`,
        });
        const hung = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), 30_000));
        try {
          await Promise.race([call, hung]);
          outcomes.push('ok');
        } catch (error) {
          outcomes.push(isTokenFlowError(error) ? (error.data?.code ?? 'unknown') : String(error));
        }
        done += 1;
        if (done === 16 && !killed) {
          killed = true;
          process.kill(victims[0] as number, 'SIGKILL'); // as a crash would, mid-load
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));

    expect(killed).toBe(true);
    // Those on the killed replica are sent again, to the survivor: every one is served.
    expect(outcomes).toEqual(Array(total).fill('ok'));
    // And the next request is served at once: the gateway's breaker did not open.
    await expect(stack.client.trpc.classify.mutate({ prompt: 'Write a haiku about autumn.' })).resolves.toMatchObject({
      topCategory: 'creative',
    });
  }, 120_000);

  it('gets the killed replica back: Ray starts a new one', async () => {
    expect(await untilRunning(stack.ml.url, 'classifier', 2)).toBe(2);
  }, 120_000);
});

describe('on Ray Serve, past capacity', () => {
  let stack: MlStack;

  beforeAll(async () => {
    // One replica takes 16 classifications at once (two batches of 8); 4 more may wait.
    stack = await startMlStack(
      startTestMlService({ ML_RAY_CLASSIFIER_REPLICAS: '1', ML_CLASSIFY_MAX_QUEUE: '4' }, 'ray'),
    );
  }, 300_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it('refuses past its queue with 503 and Retry-After, and the gateway keeps serving', async () => {
    const burst = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const response = await fetch(`${stack.ml.url}/classify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `Burst ${i}: summarise this paragraph in one line.` }),
        });
        await response.arrayBuffer();
        return `${response.status} ${response.headers.get('retry-after') ?? ''}`.trim();
      }),
    );

    expect(new Set(burst)).toEqual(new Set(['200', '503 1']));
    expect(burst.filter((b) => b === '200').length).toBeGreaterThanOrEqual(16);

    // The same burst through the gateway: shed load, never a failure that opens its breaker.
    const throughGateway = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        stack.client.trpc.classify.mutate({ prompt: `Gateway burst ${i}: translate this to French.` }).then(
          () => 'ok',
          (error: unknown) => (isTokenFlowError(error) ? (error.data?.code ?? 'unknown') : String(error)),
        ),
      ),
    );
    expect(throughGateway.filter((o) => o !== 'ok' && o !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    await expect(stack.client.trpc.classify.mutate({ prompt: 'Write a haiku about autumn.' })).resolves.toMatchObject({
      topCategory: 'creative',
    });
  }, 60_000);
});

describe('on Ray Serve, the local model behind a service token', () => {
  const TOKEN = 'ray-e2e-service-token-0123456789abcdef';
  let stack: MlStack;

  beforeAll(async () => {
    stack = await startMlStack(startMlService({ ML_GENERATOR_ENABLED: 'true', ML_SERVICE_TOKEN: TOKEN }, 'ray'), {
      ML_SERVICE_TOKEN: TOKEN,
      ROUTING_CLASSIFY_TIMEOUT_MS: '5000',
    });
  }, 300_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  const chat = async (client: TokenFlowClient, maxTokens: number, leaveAfterFirstText = false) => {
    let text = '';
    let end: unknown = null;
    for await (const event of streamGenerate(client, {
      prompt: 'What is the capital of France?',
      model: 'local/smollm2-135m-instruct',
      temperature: 0,
      maxTokens,
    })) {
      if (event.type === 'text') text += event.text;
      if (event.type === 'end') end = event;
      if (leaveAfterFirstText && text) break;
    }
    return { text, end };
  };

  it('refuses a caller without the token, as the one-process service does', async () => {
    const response = await fetch(`${stack.ml.url}/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'hello' }),
    });
    expect(response.status).toBe(401);
  });

  it("streams a chat from the generator deployment through the gateway's local provider", async () => {
    const { text, end } = await chat(stack.client, 20);

    expect(text).toMatch(/Paris/);
    expect(end).toMatchObject({
      finishReason: 'stop',
      usage: { promptTokens: expect.any(Number), completionTokens: expect.any(Number) },
    });
  });

  it('frees the generation slot of a client that leaves mid-stream', async () => {
    // One generation at a time (ML_GENERATION_CONCURRENCY=1): a slot kept by the
    // abandoned stream would turn the next request away as busy.
    const abandoned = await chat(stack.client, 200, true);
    expect(abandoned.end).toBeNull();

    const next = await chat(stack.client, 20);
    expect(next.text).toMatch(/Paris/);
  }, 60_000);

  it('gives the token to the ingress only: no model replica has it in its environment', async () => {
    expect(await untilRunning(stack.ml.url, 'classifier', 2)).toBe(2);
    const launcher = stack.ml.process.pid as number;
    const replicas = ['classifier', 'compressor', 'generator'].flatMap((name) => replicaPids(launcher, name));
    expect(replicas).toHaveLength(4);
    for (const pid of replicas) {
      expect(readFileSync(`/proc/${pid}/environ`, 'latin1')).not.toContain(TOKEN);
    }
  });
});
