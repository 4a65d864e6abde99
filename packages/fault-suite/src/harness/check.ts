import { expect } from 'vitest';
import { recordCase } from './cases.ts';
import { crashes } from './crashes.ts';
import { DEFAULT_TOLERANCE, leaksSince, settledSnapshot, type Tolerance } from './leaks.ts';

export interface CaseOptions {
  /** The case must be over within this long: past it, it is a hang. */
  deadlineMs?: number;
  tolerance?: Partial<Tolerance>;
  /** Set when the expected code is today's behaviour rather than the specification's (see the report). */
  finding?: string;
  /** How long resources may take to be released after the case (default 5 s). */
  settleMs?: number;
}

export const HANG = 'HANG';

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof HANG> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof HANG>((resolve) => {
    timer = setTimeout(() => resolve(HANG), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Runs one fault case and asserts what every case must hold: the documented
 * error code (null: success), within a bounded time, with no fd, timer,
 * listener or heap growth, no unhandled error, and the gateway still answering.
 * `run` returns the error code the client saw.
 */
export async function checkCase(
  group: string,
  /** The documented code (null: success), or the codes any of which is acceptable. */
  expected: string | null | ReadonlyArray<string | null>,
  alive: () => Promise<boolean>,
  run: () => Promise<string | null>,
  options: CaseOptions = {},
) {
  const name = expect.getState().currentTestName ?? 'unnamed case';
  const allowed = Array.isArray(expected) ? expected : [expected];
  const crashesBefore = crashes.length;
  const before = await settledSnapshot();
  const started = performance.now();
  const gotCode = await withDeadline(run(), options.deadlineMs ?? 10_000);
  const ms = Math.round(performance.now() - started);
  const settleStarted = performance.now();
  const leaks = await leaksSince(before, { ...DEFAULT_TOLERANCE, ...options.tolerance }, options.settleMs ?? 5000);
  const settledMs = Math.round(performance.now() - settleStarted);
  const up = await alive();
  recordCase({
    name,
    group,
    expectedCode: allowed.length === 1 ? (allowed[0] ?? null) : allowed.map((c) => c ?? 'none').join(' | '),
    gotCode,
    ms,
    settledMs,
    leaks,
    ...(options.finding ? { finding: options.finding } : {}),
  });

  expect(allowed, 'error code').toContain(gotCode);
  expect(leaks, 'resources that grew during the case').toEqual([]);
  expect(up, 'the gateway still answers /healthz').toBe(true);
  expect(crashes.slice(crashesBefore), 'unhandled rejections or exceptions').toEqual([]);
  return { gotCode, ms };
}
