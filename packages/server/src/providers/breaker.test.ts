import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { countsAgainstUpstream } from './breaker.ts';
import { type FailureKind, UpstreamFailure } from './errors.ts';

const failure = (kind: FailureKind, status: number | null = null, retryAfterMs: number | null = null) =>
  new TRPCError({
    code: 'BAD_GATEWAY',
    message: 'x',
    cause: new UpstreamFailure('x', { provider: 'p', status, retryAfterMs }, kind),
  });

describe('which failures count against a circuit breaker', () => {
  it.each<[string, boolean, unknown]>([
    ['a connection error', true, failure('connect')],
    ['a connect, first-token or idle timeout', true, failure('timeout')],
    ['a stream that broke after it started', true, failure('stream')],
    ['HTTP 500', true, failure('status', 500)],
    ['HTTP 503', true, failure('status', 503)],
    ['HTTP 503 with Retry-After from a provider', true, failure('status', 503, 1000)],
    ['HTTP 400', false, failure('status', 400)],
    ['HTTP 401', false, failure('status', 401)],
    ['HTTP 429', false, failure('status', 429)],
    ['the total time limit', false, failure('deadline')],
    ['an open circuit', false, failure('circuit-open')],
    ['the caller leaving', false, new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'x' })],
  ])('%s: counted %s', (_name, counted, error) => {
    expect(countsAgainstUpstream(error)).toBe(counted);
  });

  it.each<[string, boolean, unknown]>([
    ['HTTP 503 with Retry-After (busy, or loading a model)', false, failure('status', 503, 1000)],
    ['HTTP 503 without Retry-After (a model that failed to load)', true, failure('status', 503)],
    ['HTTP 502 with Retry-After', true, failure('status', 502, 1000)],
  ])('where shedding is neutral (the ML service), %s: counted %s', (_name, counted, error) => {
    expect(countsAgainstUpstream(error, { sheddingIsNeutral: true })).toBe(counted);
  });
});
