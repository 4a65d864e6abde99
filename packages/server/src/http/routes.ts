import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { Config } from '../config.ts';
import type { Auth } from './auth.ts';
import type { HttpContext } from './call-procedure.ts';
import { readiness } from './health.ts';
import { serveMetrics } from './metrics.ts';
import { handleOpenAi, sendOpenAiError } from './openai/routes.ts';
import { sendJson } from './respond.ts';
import { handleRest } from './rest.ts';
import type { Services } from './services.ts';
import { serveStatic } from './static-files.ts';
import { TRPC_PATH } from './trpc-http.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, path: string) => void;
type AdapterHandler = (req: IncomingMessage, res: ServerResponse, path: string, ctx: HttpContext) => Promise<boolean>;

export interface RouteDeps {
  config: Config;
  services: Services;
  auth: Auth;
  /** tRPC over HTTP (trpc-http.ts). */
  trpc: (req: IncomingMessage, res: ServerResponse) => void;
  /** Where the web playground's files are, served when WEB_UI=on. */
  webDir: string;
}

const unauthorized = (res: ServerResponse, extra: object) => (error: Error) =>
  sendJson(res, 401, { code: 'UNAUTHORIZED', message: error.message, ...extra });

/**
 * The HTTP routes: exact paths, then path prefixes, then the web playground.
 * Each plain HTTP surface passes the auth guard and answers a 401 in its own shape.
 */
export function createRoutes({ config, services, auth, trpc, webDir }: RouteDeps) {
  const { lifecycle, metrics, ml, registry } = services;

  /**
   * A surface that calls the procedures in-process (REST, /v1): the auth guard,
   * then its handler; a 401 or an unknown path is answered by `refuse` in the
   * surface's own error shape.
   */
  const adapter =
    (
      surface: 'rest' | 'v1',
      handle: AdapterHandler,
      refuse: (res: ServerResponse, error: TRPCError) => void,
    ): Handler =>
    (req, res, path) => {
      const principal = auth.guard(req, res, (error) => refuse(res, error));
      if (!principal) return;
      void handle(req, res, path, { ...services, connection: null, inProcess: true, principal, surface }).then(
        (handled) => {
          if (!handled)
            refuse(res, new TRPCError({ code: 'NOT_FOUND', message: `No route for ${req.method} ${path}.` }));
        },
      );
    };

  const exact = new Map<string, Handler>([
    ['/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' })],
    [
      '/readyz',
      (_req, res) =>
        void readiness(lifecycle, ml, registry).then((ready) => sendJson(res, ready.ready ? 200 : 503, ready)),
    ],
    [
      '/metrics',
      (req, res) => {
        // Key names and traffic are not for everyone to read: a scrape needs a key, unless METRICS_PUBLIC=1.
        if (config.METRICS_PUBLIC || auth.guard(req, res, unauthorized(res, {}))) void serveMetrics(req, res, metrics);
      },
    ],
    [TRPC_PATH, (req, res) => trpc(req, res)],
  ]);

  const prefixes: Array<[string, Handler]> = [
    [`${TRPC_PATH}/`, (req, res) => trpc(req, res)],
    [
      '/api/',
      adapter('rest', handleRest, (res, error) =>
        error.code === 'UNAUTHORIZED'
          ? unauthorized(res, { upstream: null })(error)
          : sendJson(res, 404, { code: error.code, message: error.message }),
      ),
    ],
    // OpenAI's API for OpenAI SDKs: the same keys, errors in OpenAI's shape.
    ['/v1/', adapter('v1', handleOpenAi, sendOpenAiError)],
  ];

  const fallback: Handler = (req, res, path) => {
    if (config.WEB_UI === 'on' && serveStatic(webDir, req, res, path)) return;
    sendJson(res, 404, { error: `No route for ${req.method} ${path}. tRPC lives at ${TRPC_PATH}, REST at /api.` });
  };

  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const handler = exact.get(path) ?? prefixes.find(([prefix]) => path.startsWith(prefix))?.[1] ?? fallback;
    handler(req, res, path);
  };
}
