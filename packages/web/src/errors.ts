import { isTokenFlowError, type TokenFlowError } from '@tokenflow/client';

/** A failure as the page shows it: the gateway's code, its message, and the provider's side when there is one. */
export interface ReadableError {
  code: string | null;
  message: string;
  /** e.g. "groq answered HTTP 404" */
  detail: string | null;
  retryAfterMs: number | null;
}

export function readableError(error: unknown): ReadableError {
  if (isTokenFlowError(error)) {
    // No data when the failure never reached the gateway (a refused or cut connection).
    const data: TokenFlowError['data'] = error.data;
    const upstream = data?.upstream;
    return {
      code: data?.code ?? null,
      message: error.message,
      detail: upstream
        ? `${upstream.provider} ${upstream.status === null ? 'could not be reached' : `answered HTTP ${upstream.status}`}`
        : null,
      retryAfterMs: data?.retryAfterMs ?? null,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: null, message: message || 'Something went wrong.', detail: null, retryAfterMs: null };
}
