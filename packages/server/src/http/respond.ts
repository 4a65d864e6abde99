import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Reads a JSON body of at most `limit` bytes; throws a TRPCError a client can act on. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `The body is over ${limit} bytes.` });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `The body is over ${limit} bytes.` });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'The body is not valid JSON.' });
  }
}

/** Server-sent events on a plain HTTP response, waiting for the socket when it is full. */
export function eventStreamResponse(res: ServerResponse) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx would otherwise hold the stream back.
    'x-accel-buffering': 'no',
  });
  return async (event: string, data: unknown) => {
    if (res.destroyed) return;
    if (!res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
  };
}
