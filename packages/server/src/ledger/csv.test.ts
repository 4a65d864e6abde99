import { describe, expect, it } from 'vitest';
import { requestRow } from '../../test-utils/ledger-backends.ts';
import { CSV_COLUMNS, csvLine, toCsvLines } from './csv.ts';

async function collect(lines: AsyncIterable<string>) {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

/** The cells of one line, for lines without quoted commas. */
const cells = (line: string) => line.replace(/\r\n$/, '').split(',');
const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);

describe('the CSV export', () => {
  it('writes a header, then one CRLF-terminated line per row', async () => {
    const rows = [requestRow(), requestRow()];

    const lines = await collect(toCsvLines(rows));

    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    expect(lines.every((line) => line.endsWith('\r\n'))).toBe(true);
  });

  it('writes times as ISO, numbers as they are, and nulls as empty cells', () => {
    const row = requestRow({ ts: Date.parse('2026-03-01T10:00:00.123Z'), costUsd: null, ttftMs: null, usdSaved: 0.25 });

    const line = cells(csvLine(row));

    expect(line).toHaveLength(CSV_COLUMNS.length);
    expect(line[column('time')]).toBe('2026-03-01T10:00:00.123Z');
    expect(line[column('costUsd')]).toBe('');
    expect(line[column('ttftMs')]).toBe('');
    expect(line[column('usdSaved')]).toBe('0.25');
  });

  it('quotes cells holding a comma, a quote or a line break, doubling the quotes (RFC 4180)', () => {
    const line = csvLine(requestRow({ category: 'a,b', routing: 'say "hi"', finishReason: 'x\ny' }));

    expect(line).toContain(',"a,b",');
    expect(line).toContain(',"say ""hi""",');
    expect(line).toContain(',"x\ny"\r\n');
  });

  it('writes fallbacks as JSON text', () => {
    const fallbacks = [{ provider: 'openai', model: 'gpt-4o', code: 'RATE_LIMITED' }];

    const line = csvLine(requestRow({ fallbacks }));

    expect(line).toContain(',"[{""provider"":""openai"",""model"":""gpt-4o"",""code"":""RATE_LIMITED""}]",');
  });

  it.each(['=HYPERLINK("http://x")', '+1+2', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd'])(
    'makes the text cell %j inert for spreadsheets with a leading apostrophe',
    (model) => {
      const line = csvLine(requestRow({ model }));

      expect(line).toMatch(/,"?'[=+\-@\t\r]/);
    },
  );

  it('leaves negative numbers and ordinary text alone', () => {
    const line = cells(csvLine(requestRow({ usdSaved: -0.5, model: 'gpt-4o-mini' })));

    expect(line[column('usdSaved')]).toBe('-0.5');
    expect(line[column('model')]).toBe('gpt-4o-mini');
  });

  it('reads the first row before yielding the header, so a failing source fails the first line', async () => {
    async function* failing(): AsyncGenerator<never> {
      yield* [];
      throw new Error('database down');
    }

    const lines = toCsvLines(failing())[Symbol.asyncIterator]();

    await expect(lines.next()).rejects.toThrow('database down');
  });
});
