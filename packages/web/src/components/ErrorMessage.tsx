import type { ReadableError } from '../errors.ts';
import { formatMs } from '../format.ts';

/** A failure with its code, in an alert so screen readers hear it at once. */
export function ErrorMessage({ error }: { error: ReadableError | null }) {
  if (!error) return null;
  return (
    <div className="error-message" role="alert">
      <p>
        {error.code ? <code className="error-code">{error.code}</code> : <strong>Error</strong>} {error.message}
      </p>
      {error.detail || error.retryAfterMs !== null ? (
        <p className="hint">
          {error.detail}
          {error.detail && error.retryAfterMs !== null ? '; ' : ''}
          {error.retryAfterMs !== null ? `retry in ${formatMs(error.retryAfterMs)}` : ''}
        </p>
      ) : null}
    </div>
  );
}
