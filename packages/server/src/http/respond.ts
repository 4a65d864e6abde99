import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a body of at most `limit` bytes as UTF-8 text; throws a TRPCError a
 * client can act on. Invalid UTF-8 is refused: replacing it would send the
 * models text the caller never wrote.
 */
export async function readText(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `The body is over ${limit} bytes.` });
  if (Number(req.headers['content-length']) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  try {
    return utf8.decode(Buffer.concat(chunks));
  } catch {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'The body is not valid UTF-8.' });
  }
}

/** Reads a JSON body of at most `limit` bytes. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readText(req, limit);
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'The body is not valid JSON.' });
  }
}

/**
 * Server-sent events on a plain HTTP response, waiting for the socket when it
 * is full (which stops reading the upstream meanwhile). A client that reads
 * nothing for `slowConsumerTimeoutMs` is disconnected, which aborts the stream.
 */
export function eventStreamResponse(res: ServerResponse, slowConsumerTimeoutMs: number) {
  const write = startEventStream(res, slowConsumerTimeoutMs);
  return (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Sends the event-stream headers (and any set before) and returns a writer of
 * raw SSE frames with the backpressure of eventStreamResponse.
 */
export function startEventStream(res: ServerResponse, slowConsumerTimeoutMs: number) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx would otherwise hold the stream back.
    'x-accel-buffering': 'no',
  });
  return async (frame: string) => {
    if (res.destroyed) return;
    if (!res.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        const timer = setTimeout(() => {
          res.destroy();
          done();
        }, slowConsumerTimeoutMs);
        res.once('drain', done);
        res.once('close', done);
      });
    }
  };
}
