import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { KeyRing, Principal } from '../auth/api-keys.ts';
import { ConnectionCounter } from '../auth/connections.ts';
import { authenticate, bearerKey } from '../auth/credentials.ts';
import type { GatewayMetrics } from '../metrics/index.ts';

const HOW_HTTP = 'send it as "Authorization: Bearer <key>"';
const HOW_WS =
  'pass apiKey to createTokenFlowClient (WebSocket connection params) or send "Authorization: Bearer <key>"';

/** The one place every surface (tRPC over HTTP and WebSocket, /api, /v1, /metrics) learns who is calling. */
export interface Auth {
  /** The caller of an HTTP request, or UNAUTHORIZED (tRPC answers it in its own shape). */
  ofRequest(req: IncomingMessage): Principal;
  /**
   * The guard of the plain HTTP surfaces: the caller, or null once `refuse`
   * has answered the 401 in that surface's own error shape.
   */
  guard(req: IncomingMessage, res: ServerResponse, refuse: (error: TRPCError) => void): Principal | null;
  /**
   * A WebSocket's caller, by the key in its connection params (our client,
   * browsers) or its upgrade's bearer header. The socket counts against the
   * key's connection limit until it closes; over the limit, TOO_MANY_REQUESTS.
   */
  ofSocket(
    req: IncomingMessage,
    params: Record<string, unknown> | null,
    socket: { once(e: 'close', f: () => void): unknown },
  ): Principal;
}

export function createAuth(keys: KeyRing, metrics: GatewayMetrics): Auth {
  const connections = new ConnectionCounter(metrics);
  const ofRequest = (req: IncomingMessage) => authenticate(keys, bearerKey(req.headers), HOW_HTTP);
  return {
    ofRequest,
    guard(req, res, refuse) {
      try {
        return ofRequest(req);
      } catch (error) {
        if (!(error instanceof TRPCError)) throw error;
        res.setHeader('www-authenticate', 'Bearer');
        refuse(error);
        return null;
      }
    },
    ofSocket(req, params, socket) {
      const presented = typeof params?.apiKey === 'string' ? params.apiKey : bearerKey(req.headers);
      const principal = authenticate(keys, presented, HOW_WS);
      socket.once('close', connections.take(principal));
      return principal;
    },
  };
}
