import type { INestApplication } from '@nestjs/common';
import { raw, type NextFunction, type Request, type Response } from 'express';
import { MAX_REQUEST_BYTES } from './tracking/segment-message';
import { CollectorConfig } from './collector.config';

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
    allowedHeaders: ['Content-Type', 'Authorization', 'Content-Encoding'],
    maxAge: 86_400,
  });
  app.use('/v1', raw({ type: () => true, limit: MAX_REQUEST_BYTES, inflate: true }));
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
