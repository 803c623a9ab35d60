import { BadRequestException } from '@nestjs/common';
import type { Request } from 'express';

/** Strict: invalid bytes are an error, not U+FFFD; a leading byte order mark (Windows tools write one) is dropped. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a raw request body as JSON (analytics.js sends it as text/plain), with a clear 400. */
export function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new BadRequestException('request body is empty; send a JSON object');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new BadRequestException('request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadRequestException(`request body is not valid JSON: ${e instanceof Error ? e.message : 'parse error'}`);
  }
}

const parsed = new WeakMap<Request, { value: unknown } | { error: unknown }>();

/**
 * The request's body as JSON, parsed once: the rate limiter reads `writeKey` from it before the
 * controller does, and a 500 KB batch should not be parsed twice.
 */
export function jsonBodyOf(req: Request): unknown {
  let entry = parsed.get(req);
  if (!entry) {
    try {
      entry = { value: parseJsonBody(req.body) };
    } catch (error) {
      entry = { error };
    }
    parsed.set(req, entry);
  }
  if ('error' in entry) throw entry.error;
  return entry.value;
}

/** A non-empty `writeKey` field of a JSON body (analytics.js, sendBeacon), or null. */
export const bodyWriteKey = (body: unknown): string | null => {
  const key = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['writeKey'] : undefined;
  return typeof key === 'string' && key !== '' ? key : null;
};
