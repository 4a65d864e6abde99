import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { type FailureKind, UpstreamFailure } from './errors.ts';
import { backoffMs, isRetryable, type RetryPolicy, retryDelay } from './retry.ts';

const failure = (kind: FailureKind, status: number | null = null, retryAfterMs: number | null = null) =>
  new UpstreamFailure('x', { provider: 'p', status, retryAfterMs }, kind);
const asError = (cause: UpstreamFailure) => new TRPCError({ code: 'BAD_GATEWAY', message: 'x', cause });

const policy: RetryPolicy = { attempts: 2, baseMs: 100, budgetMs: 1000 };
const noJitter = () => 1;

describe('which failures are retried', () => {
  it.each<[string, boolean, UpstreamFailure]>([
    ['a refused or reset connection before any response', true, failure('connect')],
    ['HTTP 502', true, failure('status', 502)],
    ['HTTP 503', true, failure('status', 503)],
    ['HTTP 504', true, failure('status', 504)],
    ['HTTP 429', true, failure('status', 429, 1000)],
    ['an error event with code 503 in place of the first token', true, failure('stream', 503)],
    ['HTTP 400', false, failure('status', 400)],
    ['HTTP 401', false, failure('status', 401)],
    ['HTTP 403', false, failure('status', 403)],
    ['HTTP 404', false, failure('status', 404)],
    ['HTTP 422', false, failure('status', 422)],
    ['HTTP 500', false, failure('status', 500)],
    ['a connection lost after the response started', false, failure('stream')],
    ['a connect, first-token or idle timeout', false, failure('timeout')],
    ['the total time limit', false, failure('deadline')],
    ['an open circuit', false, failure('circuit-open')],
  ])('%s: retried %s', (_name, retried, cause) => {
    expect(isRetryable(cause)).toBe(retried);
  });

  it('never retries an error that did not come from the upstream', () => {
    expect(
      retryDelay(new TRPCError({ code: 'CONFLICT', message: 'x' }), policy, { retriesDone: 0, elapsedMs: 0 }),
    ).toBe(null);
    expect(retryDelay(new Error('boom'), policy, { retriesDone: 0, elapsedMs: 0 })).toBe(null);
  });
});

describe('how long to wait before a retry', () => {
  it('doubles the backoff each time, with up to half of it random', () => {
    expect([1, 2, 3].map((n) => backoffMs(policy, n, noJitter))).toEqual([100, 200, 400]);
    expect([1, 2, 3].map((n) => backoffMs(policy, n, () => 0))).toEqual([50, 100, 200]);
  });

  it('stops after UPSTREAM_RETRY_ATTEMPTS retries', () => {
    const error = asError(failure('status', 503));
    expect(retryDelay(error, policy, { retriesDone: 1, elapsedMs: 0 }, noJitter)).toBe(200);
    expect(retryDelay(error, policy, { retriesDone: 2, elapsedMs: 0 }, noJitter)).toBe(null);
    expect(retryDelay(error, { ...policy, attempts: 0 }, { retriesDone: 0, elapsedMs: 0 })).toBe(null);
  });

  it('gives up when the wait would overrun UPSTREAM_RETRY_BUDGET_MS', () => {
    const error = asError(failure('connect'));
    expect(retryDelay(error, policy, { retriesDone: 0, elapsedMs: 900 }, noJitter)).toBe(100);
    expect(retryDelay(error, policy, { retriesDone: 0, elapsedMs: 901 }, noJitter)).toBe(null);
  });

  it("waits for a 429's Retry-After when it fits the budget, and gives up at once when not", () => {
    expect(retryDelay(asError(failure('status', 429, 700)), policy, { retriesDone: 0, elapsedMs: 0 }, noJitter)).toBe(
      700,
    );
    expect(retryDelay(asError(failure('status', 429, 5000)), policy, { retriesDone: 0, elapsedMs: 0 })).toBe(null);
    // Without Retry-After, a 429 backs off like any transient failure.
    expect(retryDelay(asError(failure('status', 429)), policy, { retriesDone: 0, elapsedMs: 0 }, noJitter)).toBe(100);
  });
});
