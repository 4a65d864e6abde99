import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';

/** What the client learns about an upstream failure, in `error.data.upstream`. */
export interface UpstreamDetails {
  provider: string;
  status: number | null;
  retryAfterMs: number | null;
}

/**
 * How an upstream call failed, for retry and circuit-breaker decisions (never
 * sent to the client, which gets `details`):
 * - connect: no response at all (refused, reset, DNS) before the provider answered;
 * - status: the provider answered with an HTTP error status;
 * - stream: the response had started, then broke (error event, lost connection, truncation);
 * - timeout: the provider was too slow (connect, first token, idle);
 * - deadline: the request's own total-time limit ran out;
 * - circuit-open: not called at all, its breaker is open.
 */
export type FailureKind = 'connect' | 'status' | 'stream' | 'timeout' | 'deadline' | 'circuit-open';

/** The `cause` of every TRPCError made from an upstream failure. */
export class UpstreamFailure extends Error {
  override name = 'UpstreamFailure';
  constructor(
    message: string,
    readonly details: UpstreamDetails,
    readonly kind: FailureKind,
  ) {
    super(message);
  }
}

/** A 503 that says when to come back: the upstream is up and shedding load (or, for the ML service, loading). */
export function shedsLoad(failure: UpstreamFailure): boolean {
  return failure.kind === 'status' && failure.details.status === 503 && failure.details.retryAfterMs !== null;
}

/** The UpstreamFailure behind an error, if it is one. */
export function upstreamFailureOf(error: unknown): UpstreamFailure | null {
  return error instanceof TRPCError && error.cause instanceof UpstreamFailure ? error.cause : null;
}

export interface FailureContext {
  provider: string;
  model: string;
  /** Strings that must never reach a message (the provider's key). */
  secrets: string[];
  /** True once the response has started: a broken connection then cuts an answer short. */
  midStream: boolean;
}

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The innermost useful reason in a `cause` chain: a socket error code or the deepest message. */
function rootCause(error: unknown): string {
  let reason = error instanceof Error ? error.message : String(error);
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 8; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    reason = current.message || reason;
    current = current.cause;
  }
  return reason;
}

function codeForStatus(status: number): TRPC_ERROR_CODE_KEY {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 404:
      return 'NOT_FOUND';
    case 408:
      return 'TIMEOUT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 422:
      return 'UNPROCESSABLE_CONTENT';
    case 429:
      return 'TOO_MANY_REQUESTS';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    case 504:
      return 'GATEWAY_TIMEOUT';
    default:
      // 401/403/402 mean the gateway's own credentials or account are wrong, and
      // other 5xx are the provider's fault: for the caller both are a bad gateway.
      return 'BAD_GATEWAY';
  }
}

/** Reads `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** `text` with every secret of 8 characters or more blanked out. */
export function redact(text: string, secrets: string[]) {
  return secrets.reduce((out, secret) => (secret.length >= 8 ? out.replaceAll(secret, '[redacted]') : out), text);
}

function upstreamMessage(error: APIError) {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : error.message;
}

function fail(
  code: TRPC_ERROR_CODE_KEY,
  message: string,
  details: UpstreamDetails,
  secrets: string[],
  kind: FailureKind,
) {
  const safe = redact(message, secrets);
  return new TRPCError({ code, message: safe, cause: new UpstreamFailure(safe, details, kind) });
}

/** The one place where anything a provider call throws becomes a TRPCError. */
export function toTRPCError(error: unknown, context: FailureContext): TRPCError {
  if (error instanceof TRPCError) return error;
  const { provider, model, secrets } = context;
  const details = (status: number | null, retry: number | null = null): UpstreamDetails => ({
    provider,
    status,
    retryAfterMs: retry,
  });

  if (error instanceof APIConnectionTimeoutError) {
    return fail('GATEWAY_TIMEOUT', `Provider "${provider}" did not answer in time.`, details(null), secrets, 'timeout');
  }
  if (error instanceof APIConnectionError && !context.midStream) {
    const reason = rootCause(error);
    const message = CONNECT_FAILURES.has(reason)
      ? `Could not connect to provider "${provider}" (${reason}).`
      : `The connection to provider "${provider}" failed before it answered (${reason}).`;
    return fail('SERVICE_UNAVAILABLE', message, details(null), secrets, 'connect');
  }
  if (error instanceof APIError && error.status !== undefined) {
    const status = error.status;
    const retry = retryAfterMs(error.headers);
    const text = upstreamMessage(error);
    const messages: Partial<Record<number, string>> = {
      401: `Provider "${provider}" rejected the gateway's API key (HTTP 401): ${text}`,
      403: `Provider "${provider}" refused the request (HTTP 403): ${text}`,
      404: `Model "${model}" was not found at provider "${provider}" (HTTP 404): ${text}`,
      429: `Provider "${provider}" is rate limiting (HTTP 429)${retry === null ? '' : `; retry after ${Math.ceil(retry / 1000)} s`}: ${text}`,
    };
    const message = messages[status] ?? `Provider "${provider}" answered HTTP ${status}: ${text}`;
    return fail(codeForStatus(status), message, details(status, retry), secrets, 'status');
  }
  if (error instanceof APIError) {
    // An error event inside a 200 stream. Providers put an HTTP-like status in `code`.
    const body = error.error as { code?: unknown } | undefined;
    const status = typeof body?.code === 'number' && body.code >= 400 && body.code < 600 ? body.code : null;
    const code = status === null ? 'BAD_GATEWAY' : codeForStatus(status);
    const message = `Provider "${provider}" failed mid-stream: ${upstreamMessage(error)}`;
    return fail(code, message, details(status), secrets, 'stream');
  }
  const reason = rootCause(error);
  return fail(
    'BAD_GATEWAY',
    `Connection to provider "${provider}" was lost mid-stream (${reason}).`,
    details(null),
    secrets,
    'stream',
  );
}
