import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { HTTPError, RequestError, TimeoutError } from 'got';
import { retryAfterMs, UpstreamFailure } from '../providers/errors.ts';

/** Names the ML service in `error.data.upstream.provider`. */
export const ML_SERVICE = 'ml-service';

function fail(code: TRPC_ERROR_CODE_KEY, message: string, status: number | null, retry: number | null = null) {
  const cause = new UpstreamFailure(message, { provider: ML_SERVICE, status, retryAfterMs: retry });
  return new TRPCError({ code, message, cause });
}

function detailOf(error: HTTPError): string {
  const body = error.response.body as { detail?: unknown } | string | undefined;
  if (body && typeof body === 'object' && typeof body.detail === 'string') return body.detail;
  return typeof body === 'string' && body.length > 0 ? body.slice(0, 500) : error.message;
}

/** The one place where a failed call to the ML service becomes a TRPCError. */
export function mlError(error: unknown, baseUrl: string, timeoutMs: number): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof HTTPError) {
    const status = error.response.statusCode;
    const detail = detailOf(error);
    const headers = new Headers(error.response.headers as Record<string, string>);
    if (status === 503) {
      return fail('SERVICE_UNAVAILABLE', `The ML service is not available: ${detail}`, status, retryAfterMs(headers));
    }
    // Only these mean "your input"; another 4xx (404, 405) means ML_SERVICE_URL points elsewhere.
    if (status === 400 || status === 413 || status === 422) {
      return fail('BAD_REQUEST', `The ML service refused the input: ${detail}`, status);
    }
    return fail('BAD_GATEWAY', `The ML service failed (HTTP ${status}): ${detail}`, status);
  }
  if (error instanceof TimeoutError && error.event !== 'connect') {
    return fail('TIMEOUT', `The ML service did not answer within ${timeoutMs} ms (ML_TIMEOUT_MS).`, null);
  }
  if (error instanceof RequestError && error.name === 'AbortError') {
    return new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'The request was cancelled.' });
  }
  const code = error instanceof RequestError ? error.code : String(error);
  return fail(
    'SERVICE_UNAVAILABLE',
    `The ML service at ${baseUrl} is not reachable (${code}): start it with npm start, or check ML_SERVICE_URL.`,
    null,
  );
}
