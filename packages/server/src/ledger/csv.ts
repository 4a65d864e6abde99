import type { RequestRow } from './request-row.ts';

/** The export's columns, in order: RequestRow's fields, with `ts` as an ISO time named `time`. */
export const CSV_COLUMNS = [
  'id',
  'time',
  'day',
  'key',
  'procedure',
  'surface',
  'category',
  'routing',
  'provider',
  'model',
  'fallbacks',
  'promptTokens',
  'completionTokens',
  'tokensSource',
  'costUsd',
  'costSource',
  'tokensSaved',
  'usdSaved',
  'cache',
  'cacheSavedUsd',
  'ttftMs',
  'totalMs',
  'outcome',
  'finishReason',
] as const;

const EOL = '\r\n';

/**
 * The CSV text of `rows`: a header line, then one line per row, each ending
 * in CRLF (RFC 4180), ready to write as they come. The header waits for the
 * first row, so a database that fails does so on the first line read, while
 * the caller can still answer with an error status.
 */
export function toCsvLines(rows: AsyncIterable<RequestRow> | Iterable<RequestRow>): AsyncIterable<string> {
  return csvLines(rows);
}

async function* csvLines(rows: AsyncIterable<RequestRow> | Iterable<RequestRow>) {
  const iterator =
    Symbol.asyncIterator in rows ? rows[Symbol.asyncIterator]() : (rows as Iterable<RequestRow>)[Symbol.iterator]();
  let next = await iterator.next();
  yield CSV_COLUMNS.join(',') + EOL;
  while (!next.done) {
    yield csvLine(next.value);
    next = await iterator.next();
  }
}

/** One row's line, CRLF included. */
export function csvLine(row: RequestRow): string {
  const fields = [
    text(row.id),
    new Date(row.ts).toISOString(),
    text(row.day),
    text(row.key),
    text(row.procedure),
    text(row.surface),
    text(row.category),
    text(row.routing),
    text(row.provider),
    text(row.model),
    text(JSON.stringify(row.fallbacks)),
    number(row.promptTokens),
    number(row.completionTokens),
    text(row.tokensSource),
    number(row.costUsd),
    text(row.costSource),
    number(row.tokensSaved),
    number(row.usdSaved),
    text(row.cache),
    number(row.cacheSavedUsd),
    number(row.ttftMs),
    number(row.totalMs),
    text(row.outcome),
    text(row.finishReason),
  ];
  return fields.join(',') + EOL;
}

const number = (value: number | null) => (value === null ? '' : String(value));

/**
 * A text field, quoted when it holds a comma, quote, CR or LF (quotes
 * doubled). Model names, categories and error codes can come from callers and
 * upstreams; a spreadsheet opening the file runs a cell starting with = + - @
 * (or tab/CR, which some strip first) as a formula, e.g. one that sends data
 * to a URL. A leading apostrophe makes it plain text, as OWASP advises.
 * Numbers are written unguarded: they are ours and a negative one must stay a number.
 */
function text(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
