import cluster from 'node:cluster';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AggregatorRegistry } from 'prom-client';
import { Metrics } from '@cdp/platform';
import { METRICS_REQ, METRICS_RES } from '../workers';

const TIMEOUT_MS = 5_000;

/**
 * In a worker of several (CDP_WORKERS > 1), GET /metrics answers the metrics of all workers, summed
 * by prom-client's AggregatorRegistry in the primary, so that a scrape does not see one worker's share.
 * Registered before Nest's routes, so the platform's own /metrics (this worker only) is not reached.
 */
export function serveClusterMetrics(app: INestApplication): void {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([app.get(Metrics).registry]);
  new AggregatorRegistry(); // makes this worker answer the primary's requests for its metrics
  const pending = new Map<number, (reply: { text?: string; error?: string }) => void>();
  let nextId = 0;
  process.on('message', (message: { type?: string; id?: number; text?: string; error?: string }) => {
    if (message.type === METRICS_RES && message.id !== undefined) pending.get(message.id)?.(message);
  });
  app.use('/metrics', (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' || req.path !== '/') return next();
    const id = nextId++;
    const timer = setTimeout(() => reply({ error: 'no answer from the primary' }), TIMEOUT_MS);
    const reply = ({ text, error }: { text?: string; error?: string }): void => {
      clearTimeout(timer);
      pending.delete(id);
      if (text === undefined)
        res.status(503).json({ statusCode: 503, message: `metrics of all workers unavailable: ${error ?? 'unknown'}` });
      else res.type('text/plain; version=0.0.4; charset=utf-8').send(text);
    };
    pending.set(id, reply);
    process.send?.({ type: METRICS_REQ, id });
  });
}
