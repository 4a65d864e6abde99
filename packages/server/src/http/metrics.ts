import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayMetrics } from '../metrics/index.ts';
import { sendJson } from './respond.ts';

/**
 * GET /metrics in Prometheus' text format (the gateway has checked the caller's
 * key; Prometheus sends one with `authorization: { credentials }`).
 */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, metrics: GatewayMetrics) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendJson(res, 405, { code: 'METHOD_NOT_SUPPORTED', message: 'GET /metrics only.' });
  }
  const { contentType, body } = await metrics.scrape();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
