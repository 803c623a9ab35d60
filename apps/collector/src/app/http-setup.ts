import { STATUS_CODES, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { raw, type NextFunction, type Request, type Response } from 'express';
import { MAX_REQUEST_BYTES } from './tracking/segment-message';
import { serveClusterMetrics } from './cluster-metrics';
import { CollectorConfig } from './collector.config';

/** Imports are streamed by their controllers, row by row, with their own size limit. */
const STREAMED_PATHS = new Set(['/import/csv', '/import/ndjson']);

/**
 * The collector reads bodies itself: any content type (analytics.js sends text/plain,
 * sendBeacon sends whatever the page chose), gzip, deflate or br encoded, 500 KB at most.
 */
export function configureHttp(app: INestApplication): void {
  const config = app.get(CollectorConfig);
  app.use(errorCodes);
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
  // body-parser inflates as it reads and stops at the limit, so a gzip bomb is refused after 500 KB of output.
  const readBody = raw({ type: () => true, limit: MAX_REQUEST_BYTES, inflate: true });
  const timeoutMs = config.CDP_REQUEST_TIMEOUT_MS;
  app.use('/v1', (req: Request, res: Response, next: NextFunction) =>
    STREAMED_PATHS.has(req.path) ? next() : readBodyWithin(timeoutMs, readBody, req, res, next),
  );
  app.use('/v1', bodyErrors);
  serveClusterMetrics(app);
  // Node's own bounds: headers within the request timeout, a whole request (imports too) within the import timeout.
  const server = app.getHttpServer() as Server;
  server.headersTimeout = timeoutMs;
  server.requestTimeout = Math.max(config.CDP_IMPORT_TIMEOUT_MS, timeoutMs);
}

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/**
 * Every error answer also carries `code` (`bad_request`, `unauthorized`, ...) beside `message`:
 * Segment's API answers `{code, message}`, and SDKs such as analytics-python read those two to
 * report why a batch was refused.
 */
function errorCodes(_req: Request, res: Response, next: NextFunction): void {
  const json = res.json.bind(res);
  res.json = (body?: unknown) => {
    if (res.statusCode < 400 || typeof body !== 'object' || body === null || Array.isArray(body) || 'code' in body) return json(body);
    const reason = STATUS_CODES[res.statusCode] ?? 'Error';
    return json({ ...body, code: reason.toLowerCase().replace(/[^a-z0-9]+/g, '_') });
  };
  next();
}

const TOO_LARGE = 'request body is over the 500 KB per-request limit';

/**
 * A body that has not fully arrived within `ms` gets a 408 and the connection is closed (slow-loris senders).
 * An unencoded body whose Content-Length is over the limit is refused before it is read (body-parser
 * would drain it first), and the connection closed rather than drained.
 */
function readBodyWithin(ms: number, readBody: Middleware, req: Request, res: Response, next: NextFunction): void {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity' && Number(req.headers['content-length'] ?? 0) > MAX_REQUEST_BYTES) {
    res.setHeader('Connection', 'close');
    res.status(400).json({ statusCode: 400, message: TOO_LARGE, error: 'Bad Request' });
    res.on('finish', () => req.socket.destroy());
    return;
  }
  let settled = false;
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    res.setHeader('Connection', 'close');
    res.status(408).json({ statusCode: 408, message: `request body not received within ${ms / 1000} s`, error: 'Request Timeout' });
    res.on('finish', () => req.socket.destroy());
  }, ms);
  readBody(req, res, (err?: unknown) => {
    clearTimeout(timer);
    if (settled) return;
    settled = true;
    next(err);
  });
}

/** Body-parser failures as the Tracking API's 4xx answers, with a message that says what is wrong. */
function bodyErrors(err: { type?: string; message?: string } | undefined, req: Request, res: Response, next: NextFunction): void {
  if (!err) return next();
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const [status, message] =
    err.type === 'entity.too.large'
      ? [400, TOO_LARGE]
      : err.type === 'encoding.unsupported'
        ? [415, 'unsupported Content-Encoding; send gzip, deflate, br or none']
        : // Untyped failures of an encoded body come from zlib: the bytes are not what the header says.
          err.type === undefined && encoding !== 'identity'
          ? [400, `request body is not valid ${encoding} data (as its Content-Encoding says): ${err.message ?? 'bad data'}`]
          : [400, `request body could not be read: ${err.message ?? 'bad body'}`];
  res.status(status).json({ statusCode: status, message, error: status === 415 ? 'Unsupported Media Type' : 'Bad Request' });
}
