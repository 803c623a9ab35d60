import type { Params } from 'nestjs-pino';

/**
 * Paths pino blanks before a line is written: credentials and the personal data events carry.
 * Handlers log ids (workspace, messageId, profileId), never payloads; this is the safety net.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.body',
  'res.headers["set-cookie"]',
  '*.writeKey',
  '*.apiKey',
  '*.password',
  '*.token',
  '*.email',
  '*.phone',
  '*.traits',
  '*.properties',
  '*.payload',
  '*.context.ip',
];

/**
 * A request path as it may be logged: identifiers in it (`/v1/profiles/email:jane@example.com`,
 * `/v1/identities/phone:%2B49...`, custom types such as `crm-id:...`) keep their type, lose their
 * value; any other segment with a `:` or an `@` goes whole. The query string is dropped (it may
 * carry anything).
 */
export function redactPath(url: string | undefined): string | undefined {
  return url
    ?.split('?')[0]
    ?.split('/')
    .map((segment) => {
      // The identity-resolver's identifier types (IDENTIFIER_TYPE): letters, digits, '_', '-'.
      const identifier = /^([a-z0-9_-]{1,64})(?::|%3a)/i.exec(segment);
      if (identifier) return `${identifier[1]}:[redacted]`;
      return /@|%40|:|%3a/i.test(segment) ? '[redacted]' : segment;
    })
    .join('/');
}

export function loggerParams(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Health probes and scrapes every few seconds would drown the useful lines.
      autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactPath(req.url) }),
      },
    },
  };
}
