import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { Config } from '../config.ts';
import { appRouter } from '../router/index.ts';
import type { GatewayContext } from '../trpc.ts';
import type { Auth } from './auth.ts';
import { readText } from './respond.ts';
import type { Services } from './services.ts';

export const TRPC_PATH = '/trpc';

/**
 * A request whose body was read before tRPC saw it: tRPC takes the text from
 * `body`; `bodyRefused` is why it could not be read (too large, not UTF-8).
 */
type ReadRequest = IncomingMessage & { body?: string; bodyRefused?: unknown };

export type OnError = (opts: { error: { code: string; message: string }; path?: string | undefined }) => void;

/**
 * tRPC over HTTP on /trpc. A POST body is read here, strictly, so invalid
 * UTF-8 is refused instead of reaching a model as U+FFFD. The refusal is
 * thrown from createContext, which is what makes tRPC answer it in its own
 * error shape (and batch format) before any procedure runs.
 */
export function createTrpcHttpHandler(config: Config, services: Services, auth: Auth, onError: OnError) {
  const handler = createHTTPHandler({
    router: appRouter,
    createContext: ({ req }): GatewayContext => {
      // An unknown caller is told so first, whatever their body held.
      const principal = auth.ofRequest(req);
      const { bodyRefused } = req as ReadRequest;
      if (bodyRefused) throw bodyRefused;
      return { ...services, connection: null, inProcess: false, principal, surface: 'http' };
    },
    basePath: `${TRPC_PATH}/`,
    maxBodySize: config.HTTP_MAX_BODY_BYTES,
    onError,
  });

  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return handler(req, res);
    const read = req as ReadRequest;
    void readText(req, config.HTTP_MAX_BODY_BYTES).then(
      (text) => {
        read.body = text;
        handler(read, res);
      },
      (error: unknown) => {
        read.body = '';
        read.bodyRefused = error;
        handler(read, res);
      },
    );
  };
}
