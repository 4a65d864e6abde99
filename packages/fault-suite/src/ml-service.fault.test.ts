import type { SelectModelEvent } from '@tokenflow/client';
import { type ProxyMode, type RunningMlService, startTestMlService } from '@tokenflow/server/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCase } from './harness/check.ts';
import { errorCode, type FaultStack, runStream, type StreamOutcome, startFaultStack } from './harness/stack.ts';

const NOTES = 'The team met on Monday to review the Q3 budget of 48,500 dollars. Alice owns the launch plan. ';
const ML_TIMEOUT_MS = 1000;

// One real service for the file: it takes 5-15 s to load its models.
let ml: RunningMlService;
/** The gateway talks to the service through the fault proxy. */
let proxied: FaultStack;
/** A second gateway talks to the service directly, to see a real crash and restart. */
let direct: FaultStack;

beforeAll(async () => {
  ml = await startTestMlService();
  proxied = await startFaultStack({ mlUrl: ml.url, env: { ML_TIMEOUT_MS: String(ML_TIMEOUT_MS) } });
  // A generous classify budget, so "unavailable" below means the service is down, not slow.
  direct = await startFaultStack({
    mlDirect: ml.url,
    env: { ML_TIMEOUT_MS: String(ML_TIMEOUT_MS), ROUTING_CLASSIFY_TIMEOUT_MS: '5000' },
  });
}, 180_000);
afterAll(async () => {
  await proxied?.close();
  await direct?.close();
  await ml?.close();
});
afterEach(() => proxied.proxy.mode({ kind: 'pass' }));

const classify = (stack: FaultStack) => {
  const client = stack.newClient();
  return errorCode(client.trpc.classify.mutate({ prompt: 'Write a Python function that merges two lists.' })).finally(
    () => client.close(),
  );
};
const compress = (stack: FaultStack) => {
  const client = stack.newClient();
  return errorCode(client.trpc.compress.mutate({ text: NOTES.repeat(4), ratio: 0.5 })).finally(() => client.close());
};
const selectModel = async (stack: FaultStack) => {
  const client = stack.newClient();
  const outcome = await runStream(client.trpc.selectModel, { prompt: 'Merge two sorted lists in Python.' });
  await client.close();
  return outcome as StreamOutcome<SelectModelEvent>;
};
const metadataOf = (outcome: StreamOutcome<SelectModelEvent>) => {
  const [first] = outcome.events;
  if (first?.type !== 'metadata') throw new Error(`the first event is ${first?.type}`);
  return first;
};

describe('the ML service behind a fault proxy', () => {
  const calls = { classify, compress } as const;

  it.each([
    { mode: { kind: 'pass' }, call: 'classify', code: null },
    { mode: { kind: 'pass' }, call: 'compress', code: null },
    { mode: { kind: 'slow', ms: ML_TIMEOUT_MS + 1500 }, call: 'classify', code: 'TIMEOUT' },
    { mode: { kind: 'slow', ms: ML_TIMEOUT_MS + 1500 }, call: 'compress', code: 'TIMEOUT' },
    { mode: { kind: 'hang' }, call: 'classify', code: 'TIMEOUT' },
    { mode: { kind: 'status', status: 500 }, call: 'classify', code: 'BAD_GATEWAY' },
    { mode: { kind: 'status', status: 500 }, call: 'compress', code: 'BAD_GATEWAY' },
    { mode: { kind: 'garbage' }, call: 'classify', code: 'BAD_GATEWAY' },
    { mode: { kind: 'garbage' }, call: 'compress', code: 'BAD_GATEWAY' },
  ] as Array<{ mode: ProxyMode; call: keyof typeof calls; code: string | null }>)(
    '$call answers $code when the ML service is in mode $mode.kind (ML_TIMEOUT_MS 1000)',
    async ({ mode, call, code }) => {
      proxied.proxy.mode(mode);
      proxied.proxy.requests.length = 0;

      const { ms } = await checkCase('ml-service', code, proxied.alive, () => calls[call](proxied), {
        deadlineMs: ML_TIMEOUT_MS + 2000,
      });

      expect(proxied.proxy.requests.length).toBeGreaterThan(0);
      if (code === 'TIMEOUT') expect(ms).toBeGreaterThanOrEqual(ML_TIMEOUT_MS - 50);
    },
  );

  it('selectModel still streams, with classification "unavailable", when the service answers 500', async () => {
    proxied.proxy.mode({ kind: 'status', status: 500 });
    let outcome: StreamOutcome<SelectModelEvent> = { events: [], code: 'NOT_RUN', message: '' };

    await checkCase('ml-service', null, proxied.alive, async () => {
      outcome = await selectModel(proxied);
      return outcome.code;
    });

    expect(metadataOf(outcome)).toMatchObject({ classification: 'unavailable' });
  });
});

describe('the ML service killed mid-session and restarted on the same port', () => {
  it('classify answers SERVICE_UNAVAILABLE within a second once the service is SIGKILLed', async () => {
    expect(await classify(direct)).toBeNull();
    await ml.kill();

    const { ms } = await checkCase('ml-service', 'SERVICE_UNAVAILABLE', direct.alive, () => classify(direct), {
      deadlineMs: 2000,
    });
    expect(ms).toBeLessThan(1000);
  });

  it('compress answers SERVICE_UNAVAILABLE while the service is down', async () => {
    await checkCase('ml-service', 'SERVICE_UNAVAILABLE', direct.alive, () => compress(direct), { deadlineMs: 2000 });
  });

  it('selectModel still streams, with classification "unavailable", while the service is down', async () => {
    let outcome: StreamOutcome<SelectModelEvent> = { events: [], code: 'NOT_RUN', message: '' };

    await checkCase('ml-service', null, direct.alive, async () => {
      outcome = await selectModel(direct);
      return outcome.code;
    });

    expect(metadataOf(outcome)).toMatchObject({
      classification: 'unavailable',
      category: 'general',
    });
  });

  it('classify and compress work again once the service is back on the same port', async () => {
    ml = await startTestMlService({}, 'process', { port: Number(new URL(ml.url).port) });

    // The gateway's ML client keeps one keep-alive socket to the service after a
    // successful call (the service closes it after 5 s idle): allowed, once.
    await checkCase('ml-service', null, direct.alive, () => classify(direct), {
      tolerance: { fds: 1, resources: 1 },
    });
    expect(await compress(direct)).toBeNull();
    const outcome = await selectModel(direct);
    expect(metadataOf(outcome)).toMatchObject({ classification: 'ok' });
  }, 180_000);
});
