import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIConnectionError, APIError, RateLimitError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort } from '../../test-utils/index.ts';
import { UpstreamClient } from './upstream-client.ts';

type Seen = { method?: string | undefined; url?: string | undefined; headers: IncomingHttpHeaders; body: string };
type Handler = (seen: Seen, res: import('node:http').ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A provider stand-in that records each request and answers with `handler`. */
async function provider(handler: Handler) {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const request = { method: req.method, url: req.url, headers: req.headers, body };
    seen.push(request);
    handler(request, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const streamOk: Handler = (_, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end('data: [DONE]\n\n');
};

async function bodyText(body: AsyncIterable<Uint8Array>) {
  let text = '';
  for await (const bytes of body) text += Buffer.from(bytes).toString('utf8');
  return text;
}

const signal = () => new AbortController().signal;

describe('UpstreamClient', () => {
  it('posts the chat request as OpenAI-compatible providers expect', async () => {
    const { seen, url } = await provider(streamOk);
    const client = new UpstreamClient(`${url}/v1/`, 'sk-test-123456');
    const response = await client.streamChatCompletion(
      { model: 'm', stream: true },
      { signal: signal(), headers: { 'x-request-id': 'r1' } },
    );
    expect(await bodyText(response.body)).toBe('data: [DONE]\n\n');
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/v1/chat/completions',
      body: '{"model":"m","stream":true}',
      headers: {
        authorization: 'Bearer sk-test-123456',
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'user-agent': 'tokenflow-gateway',
        'x-request-id': 'r1',
      },
    });
  });

  it('follows a 307 or 308 with the same body, and sends the key only to the same origin', async () => {
    const elsewhere = await provider(streamOk);
    const { seen, url } = await provider((request, res) => {
      if (request.url === '/old/chat/completions') res.writeHead(308, { location: '/new/chat/completions' }).end();
      else if (request.url === '/new/chat/completions') {
        res.writeHead(307, { location: `${elsewhere.url}/v1/chat/completions` }).end();
      }
    });
    const client = new UpstreamClient(`${url}/old`, 'sk-test-123456');
    const response = await client.streamChatCompletion({ model: 'm' }, { signal: signal() });
    expect(await bodyText(response.body)).toBe('data: [DONE]\n\n');
    expect(seen.map((s) => [s.url, s.body, s.headers.authorization])).toEqual([
      ['/old/chat/completions', '{"model":"m"}', 'Bearer sk-test-123456'],
      ['/new/chat/completions', '{"model":"m"}', 'Bearer sk-test-123456'],
    ]);
    expect(elsewhere.seen[0]?.body).toBe('{"model":"m"}');
    expect(elsewhere.seen[0]?.headers.authorization).toBeUndefined();
  });

  it("throws the openai SDK's error for an error status, with the body's message and the headers", async () => {
    const { url } = await provider((_, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit' } }));
    });
    const error = await new UpstreamClient(url, 'k')
      .streamChatCompletion({}, { signal: signal() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, error: { message: 'slow down' } });
    expect((error as APIError).headers?.get('retry-after')).toBe('7');
  });

  it('keeps a body that is not JSON as the message', async () => {
    const { url } = await provider((_, res) => res.writeHead(502).end('Bad gateway from the proxy'));
    const error = await new UpstreamClient(url, 'k')
      .streamChatCompletion({}, { signal: signal() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 502, message: expect.stringContaining('Bad gateway from the proxy') });
  });

  it('reports a refused connection as a connection error with the socket error as its cause', async () => {
    const error = await new UpstreamClient(`http://127.0.0.1:${await closedPort()}`, 'k')
      .streamChatCompletion({}, { signal: signal() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });
});
