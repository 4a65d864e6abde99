/** One server-sent event: its `event:` name (null when none) and its `data:` lines joined. */
export interface ServerSentEvent {
  event: string | null;
  data: string;
}

/** Where the next blank line (the end of an event) starts, and how long it is: `\n\n`, `\r\r` or `\r\n\r\n`. */
function eventEnd(text: string, from: number): { at: number; length: number } | null {
  const lf = text.indexOf('\n\n', from);
  // Nearly every provider ends lines with \n alone: look for \r only when there is one.
  if (text.indexOf('\r', from) === -1) return lf === -1 ? null : { at: lf, length: 2 };
  const candidates = [
    { at: lf, length: 2 },
    { at: text.indexOf('\r\r', from), length: 2 },
    { at: text.indexOf('\r\n\r\n', from), length: 4 },
  ].filter((c) => c.at !== -1);
  if (candidates.length === 0) return null;
  return candidates.reduce((first, c) => (c.at < first.at ? c : first));
}

function parseEvent(block: string): ServerSentEvent | null {
  let event: string | null = null;
  const data: string[] = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue; // a comment (providers send ": keep-alive")
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return event === null && data.length === 0 ? null : { event, data: data.join('\n') };
}

/**
 * Reads a provider's `text/event-stream` body as it arrives, returning every
 * event one network read completed, all at once. The openai SDK's reader
 * copies its whole buffer for each event and hands each over as a promise of
 * its own; here a read costs one decode and one await, however many events it
 * holds. Lines and fields are read as the SDK reads them (its three blank-line
 * forms, comments, one leading space dropped), and an event left unfinished
 * when the body ends is dropped, as the SDK drops it.
 */
export class SseDecoder {
  private readonly utf8 = new TextDecoder();
  private buffer = '';

  push(bytes: Uint8Array): ServerSentEvent[] {
    this.buffer += this.utf8.decode(bytes, { stream: true });
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (let end = eventEnd(this.buffer, 0); end; end = eventEnd(this.buffer, start)) {
      const event = parseEvent(this.buffer.slice(start, end.at));
      if (event) events.push(event);
      start = end.at + end.length;
    }
    if (start > 0) this.buffer = this.buffer.slice(start);
    return events;
  }
}
