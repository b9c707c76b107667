/**
 * `GET /metrics`: Prometheus text. Open by default (bind the port to a private network, or scrape
 * through the load balancer's internal side); with `metricsToken` set, it needs
 * `Authorization: Bearer <token>`, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AblyError, Err } from '@encke/protocol';
import type { PrometheusExporter } from '../metrics/prometheus.js';
import type { Router } from './router.js';

const HTTP_OK = 200;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function registerMetricsRoute(router: Router, exporter: PrometheusExporter, token: string | undefined): void {
  const expected = token === undefined ? undefined : digest(`Bearer ${token}`);
  router.add('GET', '/metrics', async ({ req, res }) => {
    if (expected !== undefined && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      throw new AblyError(Err.invalidCredentials, 'GET /metrics needs Authorization: Bearer <metricsToken>');
    }
    const text = await exporter.text();
    res.writeHead(HTTP_OK, {
      'Content-Type': exporter.contentType,
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(text);
  });
}
