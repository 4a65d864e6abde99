import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { UsageLedger } from '../accounting/usage-ledger.ts';
import { KeyRing } from '../auth/api-keys.ts';
import { ConnectionCounter } from '../auth/connections.ts';
import { authenticate, bearerKey } from '../auth/credentials.ts';
import type { Config } from '../config.ts';
import { Lifecycle } from '../lifecycle.ts';
import { createRateLimiter } from '../limits/index.ts';
import { createGatewayMetrics } from '../metrics/index.ts';
import { createMlClient, mlClientOptions } from '../ml/client.ts';
import { createProviderRegistry } from '../providers/registry.ts';
import { appRouter } from '../router/index.ts';
import { loadCatalog } from '../routing/catalog.ts';
import { checkCatalogAgainstRoutes, readRouteNames } from '../routing/routes.ts';
import { startTracing } from '../telemetry/tracing.ts';
import type { GatewayContext } from '../trpc.ts';
import { allBreakers, readiness } from './health.ts';
import { serveMetrics } from './metrics.ts';
import { handleOpenAi, sendOpenAiError } from './openai/routes.ts';
import { readText, sendJson } from './respond.ts';
import { handleRest } from './rest.ts';
import { serveStatic } from './static-files.ts';

export interface Gateway {
  /** Starts listening; resolves with the bound address (PORT=0 picks a free port). */
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: stop accepting, tell WebSocket clients to reconnect, drain, close. */
  close(): Promise<void>;
  readonly lifecycle: Lifecycle;
}

const TRPC_PATH = '/trpc';
/** Where `npm run setup` builds the web playground. */
const DEFAULT_WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'dist');
/** tRPC's own "reconnect" notification, as `broadcastReconnectNotification()` sends it to every socket. */
const RECONNECT_MESSAGE = JSON.stringify({ id: null, method: 'reconnect' });

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
  const webDir = resolve(config.WEB_DIST_DIR ?? DEFAULT_WEB_DIR);
  const catalog = loadCatalog(config.TOKENFLOW_CATALOG);
  if (config.TOKENFLOW_ROUTES) {
    const unreachable = checkCatalogAgainstRoutes(catalog, readRouteNames(config.TOKENFLOW_ROUTES));
    if (unreachable.length > 0) {
      logger.warn(
        { categories: unreachable },
        'the catalog ranks models for categories outside TOKENFLOW_ROUTES: only a caller-sent possibleCategories reaches them',
      );
    }
  }
  // Its own registry, not prom-client's global one: tests run several gateways in one process.
  const metrics = createGatewayMetrics({ knownModels: catalog.models });
  const stopTracing = startTracing({
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: config.OTEL_SERVICE_NAME,
  });
  const keys = new KeyRing(config.apiKeys, {
    requestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MINUTE,
    concurrentStreams: config.RATE_LIMIT_CONCURRENT_STREAMS,
    tokensPerMinute: config.RATE_LIMIT_TOKENS_PER_MINUTE,
    maxConnections: config.MAX_CONNECTIONS_PER_KEY,
  });
  const services: Omit<GatewayContext, 'connection' | 'principal'> = {
    config,
    registry: createProviderRegistry(config),
    ml: createMlClient({ ...mlClientOptions(config), metrics }),
    catalog,
    metrics,
    lifecycle,
    logger,
    limiter: createRateLimiter({ redisUrl: config.REDIS_URL, logger }),
    ledger: new UsageLedger(),
  };
  if (!keys.enabled) logger.warn({ host: config.HOST }, 'auth is off: no API key is configured (TOKENFLOW_API_KEYS)');
  const connections = new ConnectionCounter(metrics);
  const HOW_HTTP = 'send it as "Authorization: Bearer <key>"';
  const HOW_WS =
    'pass apiKey to createTokenFlowClient (WebSocket connection params) or send "Authorization: Bearer <key>"';
  /** The caller of a plain HTTP route, or null once `refuse` has answered 401 in that route's own shape. */
  const principalOr401 = (req: IncomingMessage, res: ServerResponse, refuse: (error: unknown) => void) => {
    try {
      return authenticate(keys, bearerKey(req.headers), HOW_HTTP);
    } catch (error) {
      res.setHeader('www-authenticate', 'Bearer');
      refuse(error);
      return null;
    }
  };
  /** Why a tRPC request's body was refused (too large, not UTF-8), for createContext to answer. */
  const bodyProblems = new WeakMap<IncomingMessage, unknown>();
  const onError = ({ error, path }: { error: { code: string; message: string }; path?: string | undefined }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ path, err: error.message }, 'procedure failed');
  };

  const trpcHandler = createHTTPHandler({
    router: appRouter,
    createContext: ({ req }): GatewayContext => {
      // Throwing here answers before any procedure runs: 401, or the body's problem.
      const principal = authenticate(keys, bearerKey(req.headers), HOW_HTTP);
      const problem = bodyProblems.get(req);
      if (problem) throw problem;
      return { ...services, connection: null, principal };
    },
    basePath: `${TRPC_PATH}/`,
    maxBodySize: config.HTTP_MAX_BODY_BYTES,
    onError,
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/metrics') {
      // Key names and traffic are not for everyone to read: a scrape needs a key, unless METRICS_PUBLIC=1.
      const allowed =
        config.METRICS_PUBLIC ||
        principalOr401(req, res, (error) =>
          sendJson(res, 401, { code: 'UNAUTHORIZED', message: (error as Error).message }),
        );
      if (allowed) void serveMetrics(req, res, metrics);
      return;
    }
    if (path === '/readyz') {
      void readiness(lifecycle, services.ml, services.registry).then((ready) =>
        sendJson(res, ready.ready ? 200 : 503, ready),
      );
      return;
    }
    if (path === TRPC_PATH || path.startsWith(`${TRPC_PATH}/`)) {
      if (req.method !== 'POST') return trpcHandler(req, res);
      // The body is read here, strictly, so invalid UTF-8 is refused instead of
      // reaching a model as U+FFFD; tRPC takes the text from `req.body`.
      void readText(req, config.HTTP_MAX_BODY_BYTES).then(
        (text) => {
          (req as IncomingMessage & { body?: string }).body = text;
          trpcHandler(req, res);
        },
        (error: unknown) => {
          bodyProblems.set(req, error);
          (req as IncomingMessage & { body?: string }).body = '';
          trpcHandler(req, res);
        },
      );
      return;
    }
    if (path.startsWith('/api/')) {
      const principal = principalOr401(req, res, (error) =>
        sendJson(res, 401, { code: 'UNAUTHORIZED', message: (error as Error).message, upstream: null }),
      );
      if (!principal) return;
      void handleRest(req, res, path, { ...services, connection: null, principal }).then((handled) => {
        if (!handled) sendJson(res, 404, { code: 'NOT_FOUND', message: `No route for ${req.method} ${path}.` });
      });
      return;
    }
    if (path.startsWith('/v1/')) {
      // OpenAI's API for OpenAI SDKs: the same keys, errors in OpenAI's shape.
      const principal = principalOr401(req, res, (error) => sendOpenAiError(res, error));
      if (!principal) return;
      void handleOpenAi(req, res, path, { ...services, connection: null, principal }).then((handled) => {
        if (!handled) {
          sendOpenAiError(res, new TRPCError({ code: 'NOT_FOUND', message: `No route for ${req.method} ${path}.` }));
        }
      });
      return;
    }
    if (config.WEB_UI === 'on' && serveStatic(webDir, req, res, path)) return;
    sendJson(res, 404, { error: `No route for ${req.method} ${path}. tRPC lives at ${TRPC_PATH}, REST at /api.` });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.WS_MAX_PAYLOAD_BYTES });
  metrics.watch({
    connections: () => wss.clients.size,
    streams: () => lifecycle.activeStreams,
    // The same breakers /readyz reports.
    breakers: () => allBreakers(services.registry, services.ml),
  });
  applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, res, info }): GatewayContext => {
      try {
        // The key comes in the connection params (our client, browsers) or the upgrade's
        // bearer header. A refused socket is upgraded and then closed with 4401 and the
        // reason, rather than refused with a bare 401: browsers never show a failed
        // upgrade's status, and tRPC would only retry it.
        const params = info.connectionParams;
        const presented = typeof params?.apiKey === 'string' ? params.apiKey : bearerKey(req.headers);
        const principal = authenticate(keys, presented, HOW_WS);
        res.once('close', connections.take(principal));
        return { ...services, connection: res, principal };
      } catch (error) {
        // tRPC sends the error as a message, then closes; this close (queued first) says why.
        const trpc = error as TRPCError;
        const code = trpc.code === 'UNAUTHORIZED' ? 4401 : 4429;
        setImmediate(() => res.close(code, trpc.message.slice(0, 120)));
        throw error;
      }
    },
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

  /**
   * Tells a client to open its next connection elsewhere. Only sockets with no
   * running stream are told: tRPC would move a running subscription to the new
   * socket, and a generation cannot be resumed there.
   */
  const sendReconnect = (socket: object) => {
    const ws = socket as WebSocket;
    if (ws.readyState === ws.OPEN) ws.send(RECONNECT_MESSAGE);
  };

  async function shutDown() {
    lifecycle.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    lifecycle.onConnectionIdle = sendReconnect;
    for (const ws of wss.clients) if (!lifecycle.hasStreams(ws)) sendReconnect(ws);
    await lifecycle.whenIdle(config.SHUTDOWN_GRACE_MS);
    await closeSockets(wss);
    server.closeAllConnections();
    await closed;
    await services.limiter.close();
    await stopTracing();
  }
  let closing: Promise<void> | undefined;

  return {
    lifecycle,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        // Node's default accept queue (511) resets connections in a burst of new clients.
        server.listen({ port: config.PORT, host: config.HOST, backlog: 4096 }, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),

    close() {
      closing ??= shutDown();
      return closing;
    },
  };
}
