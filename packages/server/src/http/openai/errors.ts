import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { causeDetails } from '../../limits/refusal.ts';
import { publicMessage } from '../../trpc.ts';

/** OpenAI's status, `type` and `code` for each TRPCError code; others keep tRPC's status. */
const OPENAI_ERRORS: Partial<Record<TRPCError['code'], { status: number; type: string; code: string }>> = {
  BAD_REQUEST: { status: 400, type: 'invalid_request_error', code: 'invalid_request' },
  UNAUTHORIZED: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  FORBIDDEN: { status: 403, type: 'invalid_request_error', code: 'forbidden' },
  NOT_FOUND: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  // No model may serve the request here (provider not configured, constraints exclude all):
  // the request has to change, so it is the caller's error, as OpenAI reports an unavailable model.
  PRECONDITION_FAILED: { status: 400, type: 'invalid_request_error', code: 'model_not_available' },
  CONFLICT: { status: 409, type: 'invalid_request_error', code: 'conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, type: 'invalid_request_error', code: 'payload_too_large' },
  UNPROCESSABLE_CONTENT: { status: 422, type: 'invalid_request_error', code: 'unprocessable_content' },
  TOO_MANY_REQUESTS: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  CLIENT_CLOSED_REQUEST: { status: 499, type: 'invalid_request_error', code: 'client_closed_request' },
  INTERNAL_SERVER_ERROR: { status: 500, type: 'server_error', code: 'internal_error' },
  BAD_GATEWAY: { status: 502, type: 'server_error', code: 'upstream_error' },
  SERVICE_UNAVAILABLE: { status: 503, type: 'server_error', code: 'service_unavailable' },
  // TIMEOUT is the provider's first-token or idle timeout: the upstream was too slow.
  TIMEOUT: { status: 504, type: 'server_error', code: 'timeout' },
  GATEWAY_TIMEOUT: { status: 504, type: 'server_error', code: 'timeout' },
};

/** Any error as OpenAI's `{ error: { message, type, code } }`, with its status and Retry-After. */
export function openAiError(error: unknown) {
  const trpc = error instanceof TRPCError ? error : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: error });
  const { upstream, retryAfterMs } = causeDetails(trpc.cause);
  const mapped = OPENAI_ERRORS[trpc.code] ?? {
    status: getHTTPStatusCodeFromError(trpc),
    type: 'server_error',
    code: trpc.code.toLowerCase(),
  };
  const headers: Record<string, string> = {};
  if (retryAfterMs !== null) {
    // OpenAI SDKs read retry-after-ms first and wait that long before retrying.
    headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
    headers['retry-after-ms'] = String(Math.ceil(retryAfterMs));
  }
  return {
    status: mapped.status,
    headers,
    body: {
      error: {
        message: publicMessage(trpc),
        type: mapped.type,
        param: null,
        code: mapped.code,
        // TokenFlow's own view: the tRPC code and, for provider failures, which provider said what.
        tokenflow: { code: trpc.code, upstream, retryAfterMs },
      },
    },
  };
}
