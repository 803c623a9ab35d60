import { BadRequestException } from '@nestjs/common';

/** Parses a raw request body as JSON (analytics.js sends it as text/plain), with a clear 400. */
export function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new BadRequestException('request body is empty; send a JSON object');
  const text = body.toString('utf8');
  if (text.includes('\uFFFD')) throw new BadRequestException('request body is not valid UTF-8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadRequestException(`request body is not valid JSON: ${e instanceof Error ? e.message : 'parse error'}`);
  }
}
