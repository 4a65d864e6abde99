/**
 * True when the database refused the rows themselves (a value out of range, a
 * constraint), as opposed to being unreachable or failing: retrying such a
 * batch as is would fail forever, so the writer retries its rows one by one
 * and gives up only on the ones refused again.
 */
export function isRowError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  // PostgreSQL SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation).
  if (/^2[23][0-9A-Z]{3}$/.test(code)) return true;
  // better-sqlite3's SqliteError codes.
  return /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
}

/** A one-line reason for logs; a driver error's message never holds DATABASE_URL's password. */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  if (error instanceof Error) return error.message || ((error as NodeJS.ErrnoException).code ?? error.name);
  return String(error);
}
