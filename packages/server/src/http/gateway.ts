import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Config } from '../config.ts';
import { Lifecycle } from '../lifecycle.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import { appRouter } from '../router/index.ts';
import type { GatewayContext } from '../trpc.ts';
import { readiness } from './health.ts';

export interface Gateway {
  /** Starts listening; resolves with the bound address (PORT=0 picks a free port). */
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: stop accepting, tell WebSocket clients to reconnect, drain, close. */
  close(): Promise<void>;
  readonly lifecycle: Lifecycle;
}

const TRPC_PATH = '/trpc';

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Closes every WebSocket with a close frame (so queued messages still go out), then forcibly. */
async function closeSockets(wss: WebSocketServer, waitMs = 1000) {
  const closing = [...wss.clients].map(
    (client) =>
      new Promise<void>((resolve) => {
        client.once('close', () => resolve());
        client.close(1001, 'gateway shutting down');
      }),
  );
  await Promise.race([Promise.all(closing), new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  for (const client of wss.clients) client.terminate();
  wss.close();
}

/** One HTTP server: tRPC over HTTP and WebSocket on /trpc, liveness and readiness beside it. */
export function createGateway(config: Config, logger: Logger): Gateway {
  const lifecycle = new Lifecycle();
  const context: GatewayContext = { config, registry: createProviderRegistry(config), lifecycle, logger };
  const createContext = () => context;
  const onError = ({ error, path }: { error: { code: string; message: string }; path?: string | undefined }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ path, err: error.message }, 'procedure failed');
  };

  const trpcHandler = createHTTPHandler({
    router: appRouter,
    createContext,
    basePath: `${TRPC_PATH}/`,
    maxBodySize: config.HTTP_MAX_BODY_BYTES,
    onError,
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = readiness(lifecycle);
      return sendJson(res, ready.ready ? 200 : 503, ready);
    }
    if (path === TRPC_PATH || path.startsWith(`${TRPC_PATH}/`)) return trpcHandler(req, res);
    sendJson(res, 404, { error: `No route for ${req.method} ${path}. tRPC lives at ${TRPC_PATH}.` });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.WS_MAX_PAYLOAD_BYTES });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext,
    onError,
    keepAlive: { enabled: true, pingMs: config.WS_PING_MS, pongWaitMs: config.WS_PONG_WAIT_MS },
  });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path !== TRPC_PATH || lifecycle.draining) {
      socket.end(`HTTP/1.1 ${lifecycle.draining ? '503 Service Unavailable' : '404 Not Found'}\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  return {
    lifecycle,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),

    async close() {
      if (lifecycle.draining) return;
      lifecycle.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Clients open their next connection elsewhere; streams already running finish here.
      wsHandler.broadcastReconnectNotification();
      await lifecycle.whenIdle(config.SHUTDOWN_GRACE_MS);
      await closeSockets(wss);
      server.closeAllConnections();
      await closed;
    },
  };
}
