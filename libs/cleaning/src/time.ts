/** Parses an ISO 8601 string or epoch millis into epoch millis, or undefined. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Event time corrected for the sender's clock skew (Segment's rule):
 * timestamp = receivedAt - (sentAt - originalTimestamp) when sentAt is given. Never later than
 * receivedAt: nothing happens after it is received, and a trait set by an event from a client
 * clock years ahead would otherwise outrank every real one (the newest event's value wins).
 */
export function correctedTimestamp(
  input: { timestamp?: unknown; originalTimestamp?: unknown; sentAt?: unknown },
  receivedAt: number,
): number {
  const original = parseTime(input.originalTimestamp) ?? parseTime(input.timestamp);
  const sentAt = parseTime(input.sentAt);
  if (original === undefined) return receivedAt;
  return Math.min(sentAt === undefined ? original : receivedAt - (sentAt - original), receivedAt);
}
