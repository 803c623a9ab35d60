import type { INestApplication } from '@nestjs/common';
import { raw, type NextFunction, type Request, type Response } from 'express';
import { MAX_REQUEST_BYTES } from './tracking/segment-message';
import { CollectorConfig } from './collector.config';

const STREAMED_PATH = '/import/csv';

/**
 * The collector reads bodies itself: any content type (analytics.js sends text/plain,
 * sendBeacon sends whatever the page chose), gzip or deflate encoded, 500 KB at most.
 */
export function configureHttp(app: INestApplication): void {
  const config = app.get(CollectorConfig);
  const express = app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void };
  if (config.CDP_TRUSTED_PROXIES)
    express.set(
      'trust proxy',
      config.CDP_TRUSTED_PROXIES.split(',').map((s) => s.trim()),
    );
  app.enableCors({
    origin: true,
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    // No fixed list: the headers a preflight asks for are reflected, as SDKs add their own (RudderStack: AnonymousId).
    maxAge: 86_400,
  });
  const readBody = raw({ type: () => true, limit: MAX_REQUEST_BYTES, inflate: true });
  // CSV imports are streamed by their controller, row by row, with their own size limit.
  app.use('/v1', (req: Request, res: Response, next: NextFunction) => (req.path === STREAMED_PATH ? next() : readBody(req, res, next)));
  app.use('/v1', bodyErrors);
}

/** Body-parser failures as the Tracking API's 4xx answers, with a message that says what is wrong. */
function bodyErrors(err: { type?: string; message?: string } | undefined, _req: Request, res: Response, next: NextFunction): void {
  if (!err) return next();
  const [status, message] =
    err.type === 'entity.too.large'
      ? [400, 'request body is over the 500 KB per-request limit']
      : err.type === 'encoding.unsupported'
        ? [415, 'unsupported Content-Encoding; send gzip, deflate or none']
        : [400, `request body could not be read: ${err.message ?? 'bad body'}`];
  res.status(status).json({ statusCode: status, message, error: status === 415 ? 'Unsupported Media Type' : 'Bad Request' });
}
