import { describe, expect, it } from 'vitest';
import { type ServerSentEvent, SseDecoder } from './sse-decoder.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

function decodeInReads(body: Uint8Array, cuts: number[]): ServerSentEvent[] {
  const decoder = new SseDecoder();
  const events: ServerSentEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, body.length]) {
    events.push(...decoder.push(body.subarray(from, cut)));
    from = cut;
  }
  return events;
}

describe('SseDecoder', () => {
  const body = bytes(
    [
      ': keep-alive',
      '',
      'data: {"a":"héllo 👋"}',
      '',
      'event: error',
      'data: {"error":{"message":"x"}}',
      '',
      'data: line one',
      'data:line two',
      '',
      'data: [DONE]',
      '',
      '',
    ].join('\n'),
  );
  const expected = [
    { event: null, data: '{"a":"héllo 👋"}' },
    { event: 'error', data: '{"error":{"message":"x"}}' },
    { event: null, data: 'line one\nline two' },
    { event: null, data: '[DONE]' },
  ];

  it('returns every event a read completes, in order, comments skipped, data lines joined', () => {
    expect(decodeInReads(body, [])).toEqual(expected);
  });

  it('gives the same events however the body is cut into reads, inside a UTF-8 character too', () => {
    for (let cut = 1; cut < body.length; cut += 1) expect(decodeInReads(body, [cut])).toEqual(expected);
    expect(
      decodeInReads(
        body,
        Array.from({ length: body.length - 1 }, (_, i) => i + 1),
      ),
    ).toEqual(expected);
  });

  it('reads \\r\\n and \\r line endings as the openai SDK does', () => {
    expect(decodeInReads(bytes('data: 1\r\n\r\ndata: 2\r\rdata: 3\n\n'), [])).toEqual([
      { event: null, data: '1' },
      { event: null, data: '2' },
      { event: null, data: '3' },
    ]);
  });

  it('drops an event the body ends before finishing', () => {
    expect(decodeInReads(bytes('data: 1\n\ndata: 2\n'), [])).toEqual([{ event: null, data: '1' }]);
  });
});
