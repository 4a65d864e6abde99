import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { Lifecycle } from '../lifecycle.ts';
import { createAuth } from './auth.ts';
import { allBreakers } from './health.ts';
import { createRoutes } from './routes.ts';
import { composeServices } from './services.ts';
import { createTrpcHttpHandler, type OnError } from './trpc-http.ts';
import { attachWebSocketServer } from './websocket.ts';

export interface Gateway {
  /** Starts listening; resolves with the bound address (PORT=0 picks a free port). */
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: stop accepting, tell WebSocket clients to reconnect, drain, close. */
  close(): Promise<void>;
  readonly lifecycle: Lifecycle;
}

/** Where `npm run setup` builds the web playground. */
const DEFAULT_WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'dist');

/** One HTTP server: tRPC over HTTP and WebSocket on /trpc, REST, /v1, liveness and readiness beside it. */
export function createGateway(config: Config, logger: Logger): Gateway {
  const lifecycle = new Lifecycle();
  const { services, keys, stop } = composeServices(config, logger, lifecycle);
  const auth = createAuth(keys, services.metrics);
  const onError: OnError = ({ error, path }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ path, err: error.message }, 'procedure failed');
  };

  const trpc = createTrpcHttpHandler(config, services, auth, onError);
  const webDir = resolve(config.WEB_DIST_DIR ?? DEFAULT_WEB_DIR);
  const server = createServer(createRoutes({ config, services, auth, trpc, webDir }));
  const sockets = attachWebSocketServer(server, config, services, auth, onError);
  services.metrics.watch({
    connections: sockets.count,
    streams: () => lifecycle.activeStreams,
    // The same breakers /readyz reports.
    breakers: () => allBreakers(services.registry, services.ml),
  });

  async function shutDown() {
    lifecycle.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    sockets.moveIdleClients();
    await lifecycle.whenIdle(config.SHUTDOWN_GRACE_MS);
    await sockets.close();
    server.closeAllConnections();
    await closed;
    // Streams cut just now end in their own time: their ledger rows and budget settles come last.
    await lifecycle.whenIdle(1000);
    // Then up to 2.5 s (within SHUTDOWN_GRACE_MS) to write the buffered rows and settle the holds: with
    // the second above and the writer's last insert, under the 5 s `npm start` allows past the grace.
    await stop(Math.min(2500, config.SHUTDOWN_GRACE_MS));
  }
  let closing: Promise<void> | undefined;

  return {
    lifecycle,
    // The request log's database is connected and migrated first: a gateway that cannot log refuses to start.
    async listen() {
      await services.ledger.open();
      void services.budgets?.sweep();
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        // Node's default accept queue (511) resets connections in a burst of new clients.
        server.listen({ port: config.PORT, host: config.HOST, backlog: 4096 }, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },

    close() {
      closing ??= shutDown();
      return closing;
    },
  };
}
