import type { ReadableError } from '../errors.ts';

/** The CSV export's filters (the server's usageExportSchema): the same as the dashboard's query, without groupBy. */
export interface CsvFilters {
  from?: string;
  to?: string;
  model?: string;
  category?: string;
}

export type CsvResult = { ok: true; blob: Blob; fileName: string } | { ok: false; error: ReadableError };

/**
 * Fetches GET /api/usage.csv with the API key as a bearer token (a plain link
 * could not send it, and the key never goes in a URL). Failures come back as
 * the page shows them: the gateway's code and message, or the network's error.
 */
export async function fetchUsageCsv(
  origin: string,
  apiKey: string | null,
  filters: CsvFilters,
  fetchImpl: typeof fetch = fetch,
): Promise<CsvResult> {
  const params = new URLSearchParams(
    Object.entries(filters).filter((entry): entry is [string, string] => Boolean(entry[1])),
  );
  const url = `${origin}/api/usage.csv${params.size > 0 ? `?${params}` : ''}`;
  try {
    const response = await fetchImpl(url, {
      headers: { accept: 'text/csv', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    });
    if (!response.ok) return { ok: false, error: await errorOf(response) };
    return { ok: true, blob: await response.blob(), fileName: csvFileName(filters) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: { code: null, message: `The export failed: ${message}`, detail: null, retryAfterMs: null },
    };
  }
}

/** The REST API answers errors as { code, message, retryAfterMs }; anything else (a proxy's page) by its status. */
async function errorOf(response: Response): Promise<ReadableError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; retryAfterMs?: unknown };
    if (typeof body.message === 'string') {
      return {
        code: typeof body.code === 'string' ? body.code : null,
        message: body.message,
        detail: null,
        retryAfterMs: typeof body.retryAfterMs === 'number' ? body.retryAfterMs : null,
      };
    }
  } catch {
    // not JSON
  }
  return {
    code: null,
    message: `The export failed with HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    detail: null,
    retryAfterMs: null,
  };
}

/** e.g. tokenflow-usage-2026-12-01-to-2026-12-07.csv (the days the rows fall in). */
export function csvFileName(filters: CsvFilters, now = Date.now()): string {
  const day = (time: string | number) => new Date(time).toISOString().slice(0, 10);
  return `tokenflow-usage-${filters.from ? `${day(filters.from)}-to-` : ''}${day(filters.to ?? now)}.csv`;
}
