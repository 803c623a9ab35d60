/** The `data` query parameter of the tracking pixel: base64 (standard or URL-safe) of a JSON object. */
export class PixelDataError extends Error {}

/** Longest `data` accepted: URLs beyond a few KB are cut by mail clients and proxies anyway. */
export const MAX_PIXEL_DATA_CHARS = 16 * 1024;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function decodePixelData(data: unknown): Record<string, unknown> {
  if (typeof data !== 'string' || data === '') throw new PixelDataError('data is required: base64 of the event as JSON');
  if (data.length > MAX_PIXEL_DATA_CHARS) throw new PixelDataError(`data is over the ${MAX_PIXEL_DATA_CHARS / 1024} KB pixel limit`);
  // A '+' in an unencoded query string arrives as a space.
  const text = data.replace(/ /g, '+');
  if (!BASE64.test(text)) throw new PixelDataError('data is not base64');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw new PixelDataError('data is not base64 of a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PixelDataError('data must encode a JSON object');
  return value as Record<string, unknown>;
}

/** The write key inside pixel data, or null (for the rate limiter, which must not throw). */
export function pixelWriteKey(data: unknown): string | null {
  try {
    const key = decodePixelData(data)['writeKey'];
    return typeof key === 'string' && key !== '' ? key : null;
  } catch {
    return null;
  }
}
