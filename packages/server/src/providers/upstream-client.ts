import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { APIConnectionError, APIError } from 'openai';

/** How long a pooled connection may stay idle (see the constructor): undici's default, which the SDK's fetch used. */
const IDLE_SOCKET_MS = 4_000;

const USER_AGENT = 'tokenflow-gateway';
const MAX_REDIRECTS = 5;

/** How much of an error response is read for its message. */
const ERROR_BODY_LIMIT = 64 * 1024;

export interface UpstreamResponse {
  headers: Headers;
  /** The event-stream body, read as it arrives. */
  body: AsyncIterable<Uint8Array>;
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

async function readErrorBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > ERROR_BODY_LIMIT) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A provider's OpenAI-compatible `/chat/completions`, streamed over node:http
 * with a keep-alive pool of its own.
 *
 * Why not the openai SDK: its fetch (undici) hands the body over as a web
 * ReadableStream, and reading that cost about a fifth of the gateway's CPU per
 * relayed token; node:http gives the bytes as they are read. Failures are the
 * SDK's own error classes, made as the SDK makes them, so errors.ts reads
 * them as before: an error status is `APIError.generate(status, body JSON,
 * body text when not JSON, headers)`, and a connection that fails before the
 * response an `APIConnectionError` with the socket error as its cause.
 */
export class UpstreamClient {
  private readonly url: URL;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };

  constructor(
    readonly baseURL: string,
    readonly apiKey: string,
  ) {
    this.url = new URL(`${baseURL.replace(/\/+$/, '')}/chat/completions`);
    // Connections stay open between requests, as the SDK's fetch kept them. An idle one is
    // closed after 4 s, or a second before the server's `Keep-Alive: timeout=N` says it will
    // close it: reusing a socket the server is closing fails the request (ECONNRESET), and
    // Node applies that hint only under a `timeout`. (Without one, 1,000 streams at once
    // reused closing sockets and opened the provider's circuit breaker in the bench.)
    const options = { keepAlive: true, timeout: IDLE_SOCKET_MS };
    this.agents = { http: new HttpAgent(options), https: new HttpsAgent(options) };
  }

  /** Sends one streaming chat request; resolves once a 2xx status and its headers arrive. */
  streamChatCompletion(
    body: object,
    options: { signal: AbortSignal; headers?: Record<string, string> | undefined },
  ): Promise<UpstreamResponse> {
    return this.send(this.url, Buffer.from(JSON.stringify(body)), options, MAX_REDIRECTS);
  }

  private send(
    url: URL,
    payload: Buffer,
    options: { signal: AbortSignal; headers?: Record<string, string> | undefined },
    redirectsLeft: number,
  ): Promise<UpstreamResponse> {
    const https = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        agent: https ? this.agents.https : this.agents.http,
        signal: options.signal,
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          accept: 'text/event-stream',
          // Only to the provider's own origin: a redirect elsewhere gets no key (as fetch does).
          ...(url.origin === this.url.origin ? { authorization: `Bearer ${this.apiKey}` } : {}),
          // Some providers' firewalls refuse requests that carry no User-Agent.
          'user-agent': USER_AGENT,
          ...options.headers,
        },
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        let headers: Headers;
        try {
          headers = toHeaders(res.headers);
        } catch (cause) {
          res.destroy();
          reject(new APIConnectionError({ cause: cause as Error }));
          return;
        }
        if (status >= 200 && status < 300) {
          resolve({ headers, body: res });
          return;
        }
        // fetch followed redirects; 307 and 308 are the ones that keep a POST and its body (a
        // moved path). One to another origin, http to https included, goes without the key.
        const location = headers.get('location');
        if ((status === 307 || status === 308) && location && redirectsLeft > 0) {
          res.resume();
          resolve(this.send(new URL(location, url), payload, options, redirectsLeft - 1));
          return;
        }
        readErrorBody(res).then(
          (text) => {
            const json = parseJson(text);
            reject(
              APIError.generate(status, json as object | undefined, json === undefined ? text : undefined, headers),
            );
          },
          (cause: unknown) =>
            reject(options.signal.aborted ? cause : new APIConnectionError({ cause: cause as Error })),
        );
      });
      // An abort rejects as it is (the caller tells a timeout from a caller that left by its signal).
      req.on('error', (cause) => reject(options.signal.aborted ? cause : new APIConnectionError({ cause })));
      req.end(payload);
    });
  }
}
