import type { Scenario } from '@tokenflow/server/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashes } from './harness/crashes.ts';
import { DEFAULT_TOLERANCE, leaksSince, settledSnapshot } from './harness/leaks.ts';
import {
  errorCode,
  type FaultStack,
  OPENROUTER_MODEL,
  rawRequest,
  runStream,
  startFaultStack,
} from './harness/stack.ts';

const SOAK = process.env.FAULT_SOAK === '1';
const MINUTES = Number(process.env.FAULT_SOAK_MINUTES ?? 20);
const FAULTS: Scenario[] = [
  {},
  { eventDelayMs: 2 },
  { fault: { kind: 'status', status: 500 } },
  { fault: { kind: 'status', status: 429, retryAfter: '1' } },
  { fault: { kind: 'reset', afterEvents: 20 } },
  { fault: { kind: 'midstream-error', style: 'groq', afterEvents: 10 } },
  { fault: { kind: 'stall', afterEvents: 0 } },
  { fault: { kind: 'truncate', afterEvents: 15 } },
];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

describe.skipIf(!SOAK)(
  `soak (runs only with FAULT_SOAK=1: ${MINUTES} minutes of mixed traffic and random faults)`,
  () => {
    let stack: FaultStack;
    beforeAll(async () => {
      stack = await startFaultStack();
    });
    afterAll(() => stack?.close());

    it(
      `keeps heap, fds and timers flat over ${MINUTES} minutes of mixed traffic with random faults`,
      async () => {
        const before = await settledSnapshot();
        const deadline = Date.now() + MINUTES * 60_000;
        let rounds = 0;
        while (Date.now() < deadline) {
          stack.upstream.use(() => pick(FAULTS));
          stack.proxy.mode(pick([{ kind: 'pass' }, { kind: 'status', status: 500 }, { kind: 'garbage' }] as const));
          const client = stack.newClient();
          await Promise.all([
            ...Array.from({ length: 8 }, () =>
              runStream(client.trpc.generate, { prompt: 'soak', ...OPENROUTER_MODEL }),
            ),
            ...Array.from({ length: 4 }, () => runStream(client.trpc.selectModel, { prompt: 'soak' })),
            errorCode(client.trpc.classify.mutate({ prompt: 'soak' })),
            rawRequest(stack.gateway.url, { path: '/api/compress', body: '{"text": 1}' }),
          ]);
          await client.close();
          stack.upstream.requests.length = 0;
          stack.proxy.requests.length = 0;
          rounds += 1;
        }

        const leaks = await leaksSince(before, { ...DEFAULT_TOLERANCE, heapBytes: 16 * 1024 * 1024 }, 10_000);
        expect(rounds).toBeGreaterThan(0);
        expect(leaks).toEqual([]);
        expect(crashes).toEqual([]);
        expect(await stack.alive()).toBe(true);
      },
      (MINUTES + 2) * 60_000,
    );
  },
);
