/** Parses an ISO 8601 string or epoch millis into epoch millis, or undefined. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Event time corrected for the sender's clock skew (Segment's rule):
 * timestamp = receivedAt - (sentAt - originalTimestamp) when sentAt is given.
 */
export function correctedTimestamp(
  input: { timestamp?: unknown; originalTimestamp?: unknown; sentAt?: unknown },
  receivedAt: number,
): number {
  const original = parseTime(input.originalTimestamp) ?? parseTime(input.timestamp);
  const sentAt = parseTime(input.sentAt);
  if (original === undefined) return receivedAt;
  if (sentAt === undefined) return original;
  return receivedAt - (sentAt - original);
}
