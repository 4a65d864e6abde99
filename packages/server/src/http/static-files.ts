import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { sendJson } from './respond.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

// The playground talks only to this origin (HTTP and its WebSocket) and runs no inline script.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * Serves the built web playground (packages/web/dist) on GET: `/` is its page,
 * `/assets/*` its files. Nothing outside the folder can be reached. Returns
 * false for other requests.
 */
export function serveStatic(dir: string, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path !== '/' && path !== '/index.html' && !path.startsWith('/assets/') && path !== '/favicon.svg') return false;
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    sendJson(res, 404, {
      code: 'NOT_FOUND',
      message: `The web playground is not built (${index} is missing): run npm run setup, or npm start, which builds it.`,
    });
    return true;
  }
  const relative = normalize(path === '/' ? 'index.html' : decodeURIComponent(path).slice(1));
  const file = join(dir, relative);
  const found =
    relative.startsWith('..') || !file.startsWith(dir + sep) ? undefined : statSync(file, { throwIfNoEntry: false });
  if (!found?.isFile()) {
    sendJson(res, 404, { code: 'NOT_FOUND', message: `No file ${path}.` });
    return true;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': found.size,
    // Vite names assets by content hash; the page itself must always be fresh.
    'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...SECURITY_HEADERS,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}
