import type { INestApplication } from '@nestjs/common';
import { json, type NextFunction, type Request, type Response } from 'express';

/** Largest JSON body the services' APIs take (segment definitions, tracking plans and rules are far smaller). */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

interface BodyParserError {
  type?: string;
  status?: number;
  message?: string;
  /** The text the parser refused (body-parser sets it on parse failures). */
  body?: unknown;
}

/** What a body the strict parser refused although it is JSON holds (`null`, `42`, `"x"`), or null. */
function nonObjectJson(body: unknown): string | null {
  if (typeof body !== 'string') return null;
  try {
    const value: unknown = JSON.parse(body);
    return value === null ? 'null' : typeof value === 'string' ? 'a string' : `a ${typeof value}`;
  } catch {
    return null;
  }
}

/**
 * JSON body parsing with the parser's failures answered as a client's mistake (413, 415, 400 with
 * a message), not passed on to Express's final handler, which logs them as errors with a stack.
 */
export function useJsonBodies(app: INestApplication, limitBytes = JSON_BODY_LIMIT_BYTES): void {
  // A body the JSON parser skips would reach a handler as "no body", which some read as "all defaults".
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!hasBody(req)) return next();
    if (!req.is('application/json') && !req.is('+json'))
      return void res.status(415).json({ statusCode: 415, message: 'send the body as application/json', error: 'Unsupported Media Type' });
    // The parser takes any utf-* charset, and one UTF-16 byte decodes to nothing, which it reads as `{}`.
    if (!isUtf8(req.headers['content-type']))
      return void res.status(415).json(bodyErrorAnswer({ type: 'charset.unsupported' }, limitBytes));
    next();
  });
  app.use(json({ limit: limitBytes }));
  // Every API body is an object; a validation pipe reads an array as "no fields given", i.e.
  // "all defaults" (`PUT /v1/identity-rules` with `[]` reset every rule).
  app.use((req: Request, res: Response, next: NextFunction) =>
    Array.isArray(req.body)
      ? void res.status(400).json({ statusCode: 400, message: 'the body must be a JSON object, not an array', error: 'Bad Request' })
      : next(),
  );
  app.use((err: BodyParserError | undefined, _req: Request, res: Response, next: NextFunction) => {
    const answer = err && bodyErrorAnswer(err, limitBytes);
    if (!answer) return next(err);
    res.status(answer.statusCode).json(answer);
  });
}

/** Whether a Content-Type names UTF-8 or no charset at all (JSON's default). */
export function isUtf8(contentType: string | undefined): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

export function bodyErrorAnswer(
  err: BodyParserError,
  limitBytes: number,
): { statusCode: number; message: string; error: string } | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return { statusCode: 413, message: `request body is over the ${limitBytes} byte limit`, error: 'Payload Too Large' };
    case 'encoding.unsupported':
      return { statusCode: 415, message: 'unsupported Content-Encoding; send gzip, deflate, br or none', error: 'Unsupported Media Type' };
    case 'charset.unsupported':
      return { statusCode: 415, message: 'unsupported charset; send UTF-8 JSON', error: 'Unsupported Media Type' };
    case 'entity.parse.failed': {
      // The strict parser refuses JSON that is no object or array with a misleading "Unexpected token".
      const other = nonObjectJson(err.body);
      const message = other ? `the body must be a JSON object, not ${other}` : `malformed JSON: ${err.message ?? 'could not parse'}`;
      return { statusCode: 400, message, error: 'Bad Request' };
    }
    default:
      // Other client-side read failures (aborted, bad length) carry a 4xx status of their own.
      return err.status !== undefined && err.status >= 400 && err.status < 500
        ? {
            statusCode: err.status,
            message: `request body could not be read: ${err.message ?? err.type ?? 'bad body'}`,
            error: 'Bad Request',
          }
        : undefined;
  }
}
