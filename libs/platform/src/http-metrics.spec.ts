import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpMetrics, routeOf } from './http-metrics';
import { Metrics } from './metrics';

const answer = (metrics: Metrics, req: Record<string, unknown>, status: number) => {
  const res = Object.assign(new EventEmitter(), { statusCode: status });
  let passed = false;
  httpMetrics(metrics)(req as unknown as IncomingMessage, res as unknown as ServerResponse, () => (passed = true));
  // Express sets the route while dispatching, before the answer is sent.
  Object.assign(req, req['later'] ?? {});
  res.emit('finish');
  return passed;
};

describe('HTTP metrics', () => {
  it('labels a request by the route pattern it matched, never by its path', () => {
    expect(routeOf({ route: { path: '/v1/profiles/:id' } } as never)).toBe('/v1/profiles/:id');
    expect(routeOf({ baseUrl: '/v1', route: { path: '/track' } } as never)).toBe('/v1/track');
    expect(routeOf({ url: '/v1/profiles/email:jane@example.com' } as never)).toBe('unmatched');
  });

  it('counts and times each answer by method, route and status', async () => {
    const metrics = new Metrics();
    expect(answer(metrics, { method: 'GET', later: { route: { path: '/v1/profiles/:id' } } }, 404)).toBe(true);
    answer(metrics, { method: 'GET', later: { route: { path: '/v1/profiles/:id' } } }, 200);
    answer(metrics, { method: 'POST', url: '/v1/track' }, 400);
    const counts = (await metrics.httpRequests.get()).values.map((v) => [v.labels, v.value]);
    expect(counts).toEqual(
      expect.arrayContaining([
        [{ method: 'GET', route: '/v1/profiles/:id', status: '404' }, 1],
        [{ method: 'GET', route: '/v1/profiles/:id', status: '200' }, 1],
        [{ method: 'POST', route: 'unmatched', status: '400' }, 1],
      ]),
    );
    const timed = (await metrics.httpSeconds.get()).values.find(
      (v) => v.metricName === 'cdp_http_request_duration_seconds_count' && v.labels.route === '/v1/profiles/:id',
    );
    expect(timed?.value).toBe(2);
  });
});
