import type { Server } from 'node:http';
import type { TRPCError } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../config.ts';
import { appRouter } from '../router/index.ts';
import type { GatewayContext } from '../trpc.ts';
import type { Auth } from './auth.ts';
import type { Services } from './services.ts';
import { type OnError, TRPC_PATH } from './trpc-http.ts';
import { behindOf, sendInBatches } from './write-batching.ts';

/** Close codes a refused socket gets, with the reason: no or a wrong key, or over the key's connection limit. */
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_TOO_MANY = 4429;
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

/**
 * Tells a client to open its next connection elsewhere. Only sockets with no
 * running stream are told: tRPC would move a running subscription to the new
 * socket, and a generation cannot be resumed there.
 */
function sendReconnect(socket: object) {
  const ws = socket as WebSocket;
  if (ws.readyState === ws.OPEN) ws.send(RECONNECT_MESSAGE);
}

/** tRPC over WebSocket on /trpc, sharing the HTTP server's port. */
export function attachWebSocketServer(
  server: Server,
  config: Config,
  services: Services,
  auth: Auth,
  onError: OnError,
) {
  const { lifecycle } = services;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.WS_MAX_PAYLOAD_BYTES });
  applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, res, info }): GatewayContext => {
      try {
        return {
          ...services,
          connection: res,
          inProcess: false,
          surface: 'ws',
          principal: auth.ofSocket(req, info.connectionParams, res),
          clientBehind: behindOf(res),
        };
      } catch (error) {
        // A refused socket is upgraded and then closed with a code and the reason,
        // rather than refused with a bare 401: browsers never show a failed
        // upgrade's status, and tRPC would only retry it. tRPC sends the error as
        // a message, then closes; this close (queued first) says why.
        const trpc = error as TRPCError;
        const code = trpc.code === 'UNAUTHORIZED' ? CLOSE_UNAUTHORIZED : CLOSE_TOO_MANY;
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
    wss.handleUpgrade(req, socket, head, (ws) => {
      sendInBatches(ws, socket);
      wss.emit('connection', ws, req);
    });
  });

  return {
    /** Open WebSockets, for the connections gauge. */
    count: () => wss.clients.size,
    /** Shutdown's first step: idle sockets are told to reconnect now, busy ones when their last stream ends. */
    moveIdleClients() {
      lifecycle.onConnectionIdle = sendReconnect;
      for (const ws of wss.clients) if (!lifecycle.hasStreams(ws)) sendReconnect(ws);
    },
    /** Shutdown's last step. */
    close: () => closeSockets(wss),
  };
}
