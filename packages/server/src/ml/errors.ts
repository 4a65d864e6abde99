import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { HTTPError, ParseError, RequestError, TimeoutError } from 'got';
import { type FailureKind, redact, retryAfterMs, UpstreamFailure } from '../providers/errors.ts';

/** Names the ML service in `error.data.upstream.provider`. */
export const ML_SERVICE = 'ml-service';

function fail(
  code: TRPC_ERROR_CODE_KEY,
  message: string,
  status: number | null,
  kind: FailureKind,
  retry: number | null = null,
) {
  const cause = new UpstreamFailure(message, { provider: ML_SERVICE, status, retryAfterMs: retry }, kind);
  return new TRPCError({ code, message, cause });
}

/** What the service said, with any of `secrets` (the gateway's token) blanked out should it echo one. */
function detailOf(error: HTTPError, secrets: string[]): string {
  const body = error.response.body as { detail?: unknown } | string | undefined;
  const detail =
    body && typeof body === 'object' && typeof body.detail === 'string'
      ? body.detail
      : typeof body === 'string' && body.length > 0
        ? body.slice(0, 500)
        : error.message;
  return redact(detail, secrets);
}

/** The one place where a failed call to the ML service becomes a TRPCError. */
export function mlError(error: unknown, baseUrl: string, timeoutMs: number, secrets: string[] = []): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof HTTPError) {
    const status = error.response.statusCode;
    const detail = detailOf(error, secrets);
    const headers = new Headers(error.response.headers as Record<string, string>);
    if (status === 503) {
      const message = `The ML service is not available: ${detail}`;
      return fail('SERVICE_UNAVAILABLE', message, status, 'status', retryAfterMs(headers));
    }
    if (status === 401 || status === 403) {
      const message = `The ML service refused the gateway (HTTP ${status}): ML_SERVICE_TOKEN must match the service's token. ${detail}`;
      return fail('BAD_GATEWAY', message, status, 'status');
    }
    // Only these mean "your input"; another 4xx (404, 405) means ML_SERVICE_URL points elsewhere.
    if (status === 400 || status === 413 || status === 422) {
      return fail('BAD_REQUEST', `The ML service refused the input: ${detail}`, status, 'status');
    }
    return fail('BAD_GATEWAY', `The ML service failed (HTTP ${status}): ${detail}`, status, 'status');
  }
  if (error instanceof ParseError) {
    // It answered, so it is up, but with something that is not JSON: a proxy page, or a bug.
    return fail('BAD_GATEWAY', 'The ML service answered with a body that is not JSON.', null, 'stream');
  }
  if (error instanceof TimeoutError && error.event !== 'connect') {
    return fail('TIMEOUT', `The ML service did not answer within ${timeoutMs} ms (ML_TIMEOUT_MS).`, null, 'timeout');
  }
  if (error instanceof RequestError && error.name === 'AbortError') {
    return new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'The request was cancelled.' });
  }
  const code = error instanceof RequestError ? error.code : String(error);
  return fail(
    'SERVICE_UNAVAILABLE',
    `The ML service at ${baseUrl} is not reachable (${code}): start it with npm start, or check ML_SERVICE_URL.`,
    null,
    'connect',
  );
}

/** The caller stopped waiting (left, or its own deadline passed): says nothing about the service. */
export function callerGaveUp(signal: AbortSignal) {
  const reason: unknown = signal.reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') {
    return new TRPCError({ code: 'TIMEOUT', message: "The caller's deadline passed before the ML service answered." });
  }
  return new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'The request was cancelled.' });
}

/**
 * When the caller stopped waiting: an attempt that had already failed to connect
 * still says the service is down (selectModel's 300 ms deadline outlasts got's
 * connection retries, so a stopped service would otherwise never open the
 * circuit); a trial that got no answer in time proves nothing, so it keeps the
 * circuit open rather than close it; anything else is neutral.
 */
export function whatTheBreakerHears(failedAttempt: unknown, trial: boolean, baseUrl: string, timeoutMs: number) {
  if (failedAttempt !== null) return mlError(failedAttempt, baseUrl, timeoutMs);
  if (!trial) return null;
  return fail(
    'TIMEOUT',
    'The ML service did not answer a trial request before its caller stopped waiting.',
    null,
    'timeout',
  );
}
