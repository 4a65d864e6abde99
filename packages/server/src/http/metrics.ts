import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyRing } from '../auth/api-keys.ts';
import { authenticate, bearerKey } from '../auth/credentials.ts';
import type { GatewayMetrics } from '../metrics/index.ts';
import { sendJson } from './respond.ts';

/**
 * GET /metrics in Prometheus' text format. With API keys configured a scrape
 * needs a key too (Prometheus sends it with `authorization: { credentials }`),
 * unless METRICS_PUBLIC=1: key names and traffic are not for everyone to read.
 */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  options: { metrics: GatewayMetrics; keys: KeyRing; isPublic: boolean },
) {
  if (!options.isPublic) {
    try {
      authenticate(options.keys, bearerKey(req.headers), 'send it as "Authorization: Bearer <key>"');
    } catch (error) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendJson(res, 401, { code: 'UNAUTHORIZED', message: (error as Error).message });
    }
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendJson(res, 405, { code: 'METHOD_NOT_SUPPORTED', message: 'GET /metrics only.' });
  }
  const { contentType, body } = await options.metrics.scrape();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
