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

export function loggerParams(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Health probes and scrapes every few seconds would drown the useful lines.
      autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }),
      },
    },
  };
}
