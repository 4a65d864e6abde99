import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the proxy answers the next requests; switch it per test with `proxy.mode(...)`. */
export type ProxyMode =
  | { kind: 'pass' }
  /** Forwards, but only after `ms`. */
  | { kind: 'slow'; ms: number }
  /** Answers with this status and a FastAPI-style `{ detail }` body, without asking the service. */
  | { kind: 'status'; status: number; detail?: string }
  /** HTTP 200, content-type JSON, and a body that is not JSON. */
  | { kind: 'garbage' }
  /** Reads the request and never answers; the socket stays open. */
  | { kind: 'hang' };

export interface ProxiedRequest {
  method: string;
  path: string;
}

export interface FaultProxy {
  /** Use as the gateway's ML_SERVICE_URL. */
  url: string;
  /** Every request that reached the proxy, in order, whatever the mode. */
  requests: ProxiedRequest[];
  mode(next: ProxyMode): void;
  /** Points the proxy at another service address, e.g. after a restart on a new port. */
  retarget(url: string): void;
  close(): Promise<void>;
}

const GARBAGE = '{"labels": [{"label": "code", "score": 0.9},, <html>oops</html>';

/**
 * An HTTP proxy in front of the real ML service that injects the faults a
 * service behind a network can show: slowness, errors, nonsense and silence.
 */
export async function startFaultProxy(target: string, port = 0): Promise<FaultProxy> {
  let current: ProxyMode = { kind: 'pass' };
  let targetUrl = new URL(target);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const upstream = request(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: targetUrl.host, 'content-length': String(body.length) },
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // The service is gone: the caller sees its connection dropped, as it would with no proxy.
    upstream.on('error', () => req.socket.destroy());
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests.push({ method: req.method ?? '', path: req.url ?? '' });
    const mode = current;
    switch (mode.kind) {
      case 'pass':
        return forward(req, res, Buffer.concat(chunks));
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) forward(req, res, Buffer.concat(chunks));
        }, mode.ms);
        timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
        return;
      }
      case 'status':
        res.writeHead(mode.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: mode.detail ?? `injected HTTP ${mode.status}` }));
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(GARBAGE);
        return;
      case 'hang':
        return;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen({ port, host: '127.0.0.1' });
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${bound}`,
    requests,
    mode(next) {
      current = next;
    },
    retarget(url) {
      targetUrl = new URL(url);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
