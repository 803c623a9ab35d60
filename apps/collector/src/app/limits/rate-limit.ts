import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { Request } from 'express';
import { basicAuthUser, bearerToken, hashKey, keyIdOf } from '@cdp/access';
import { CollectorConfig } from '../collector.config';
import { FixedWindowStorage } from './fixed-window.storage';
import { pixelWriteKey } from '../pixel/pixel-data';
import { bodyWriteKey, jsonBodyOf } from '../tracking/body';

/**
 * Who a request counts against: the key it presents (write key as Basic user, in the body, in
 * pixel data or as ?writeKey=; API key or admin token as Bearer), by key id, so that many clients
 * behind one NAT share nothing and one key spread over many addresses shares its budget. Requests
 * without a key count against their address. The key is not verified here: a guessed key gets its own bucket
 * and its 401 from the controller.
 */
export function trackerOf(req: Request): string {
  const credential = basicAuthUser(req.headers.authorization) ?? bearerToken(req.headers.authorization) ?? inlineWriteKey(req);
  return credential ? `key:${keyIdOf(hashKey(credential))}` : `ip:${req.ip ?? 'unknown'}`;
}

function inlineWriteKey(req: Request): string | null {
  const inQuery = req.query['writeKey']; // webhooks
  if (typeof inQuery === 'string' && inQuery !== '') return inQuery;
  if (req.method === 'GET') return pixelWriteKey(req.query['data']);
  if (!Buffer.isBuffer(req.body)) return null;
  try {
    return bodyWriteKey(jsonBodyOf(req));
  } catch {
    return null; // the controller answers the 400
  }
}

/** Only the API is limited; health probes and metrics scrapes never are. */
const unlimited = (context: ExecutionContext): boolean => {
  const req = context.switchToHttp().getRequest<Request>();
  return !req.path.startsWith('/v1/') || req.method === 'OPTIONS';
};

export function rateLimitOptions(config: CollectorConfig): ThrottlerModuleOptions {
  const limit = config.CDP_RATE_LIMIT_REQUESTS;
  const ttl = config.CDP_RATE_LIMIT_WINDOW_MS;
  return {
    // Named "default" so that the 429 carries a plain Retry-After (other names get a suffix).
    throttlers: [{ name: 'default', limit: Math.max(limit, 1), ttl }],
    storage: new FixedWindowStorage(),
    skipIf: (context) => limit === 0 || unlimited(context),
    getTracker: (req) => trackerOf(req as Request),
    // One budget per key over every route (the default key is per route).
    generateKey: (_context, tracker, name) => `${name}:${tracker}`,
    errorMessage: (_context, detail) =>
      `rate limit exceeded: more than ${detail.limit} requests in ${detail.ttl / 1000} s for this key; retry after ${detail.timeToBlockExpire} s`,
  };
}
