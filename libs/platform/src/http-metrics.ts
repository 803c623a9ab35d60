import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './metrics';

/** What Express adds to a request once a route matched it. */
type RoutedRequest = IncomingMessage & { baseUrl?: string; route?: { path?: unknown } };

/**
 * The route pattern a request matched (`/v1/profiles/:id`), never its path: ids and values in a
 * path would make a metric series per person. Requests answered before routing (a refused body,
 * an unknown path) are `unmatched`.
 */
export function routeOf(req: RoutedRequest): string {
  const path = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : 'unmatched';
}

/** Express middleware: counts every answer and times it, by route and status. */
export function httpMetrics(metrics: Metrics) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const method = req.method ?? 'OTHER';
      const route = routeOf(req as RoutedRequest);
      metrics.httpRequests.inc({ method, route, status: String(res.statusCode) });
      metrics.httpSeconds.observe({ method, route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
