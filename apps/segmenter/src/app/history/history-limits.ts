/**
 * Occurrences a history document keeps per profile and event name: the newest, by arrival. With
 * occurrences of at most MAX_STORED_PROPERTIES_BYTES, a document stays far below MongoDB's 16 MB
 * (a bot's endless page views would otherwise grow it until every write of it failed). Counts
 * past it stay at it: `count() >= n` holds for any n up to it.
 */
export const MAX_OCCURRENCES = 1_000;

/** Most bytes of an event's properties (as JSON text) the history keeps per occurrence. */
export const MAX_STORED_PROPERTIES_BYTES = 4_096;

/** Longest string value kept when an event's properties are cut down. */
const MAX_KEPT_STRING = 256;

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * An event's properties as the history keeps them: whole when their JSON text fits in
 * MAX_STORED_PROPERTIES_BYTES; else only the top-level numbers, booleans, nulls and short strings,
 * in order, as many as fit. Conditions mostly filter on such values (`property('total') > 100`),
 * and a bounded occurrence keeps a busy profile's history document far below the 16 MB a document
 * may hold. Pure.
 */
export function boundedProperties(properties: Record<string, unknown>): Record<string, unknown> {
  if (bytes(JSON.stringify(properties)) <= MAX_STORED_PROPERTIES_BYTES) return properties;
  const kept: Record<string, unknown> = {};
  let size = 2; // the braces
  for (const [key, value] of Object.entries(properties)) {
    const scalar = value === null || typeof value === 'number' || typeof value === 'boolean';
    if (!scalar && !(typeof value === 'string' && value.length <= MAX_KEPT_STRING)) continue;
    const entry = bytes(`${JSON.stringify(key)}:${JSON.stringify(value)}`) + (size > 2 ? 1 : 0);
    if (size + entry > MAX_STORED_PROPERTIES_BYTES) continue;
    kept[key] = value;
    size += entry;
  }
  return kept;
}
