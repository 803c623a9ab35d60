/** Parses an ISO 8601 string or epoch millis into epoch millis, or undefined. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** How far after its receipt an event's time may be before it is taken for a wrong clock. */
export const MAX_FUTURE_MS = 10 * 60_000;

/**
 * Event time corrected for the sender's clock skew (Segment's rule):
 * timestamp = receivedAt - (sentAt - originalTimestamp) when sentAt is given. A time more than
 * MAX_FUTURE_MS after receivedAt becomes receivedAt: a trait set by an event from a client clock
 * years ahead would otherwise outrank every real one (the newest event's value wins). Within that
 * margin a clock running a little fast keeps its events' order.
 */
export function correctedTimestamp(
  input: { timestamp?: unknown; originalTimestamp?: unknown; sentAt?: unknown },
  receivedAt: number,
): number {
  const original = parseTime(input.originalTimestamp) ?? parseTime(input.timestamp);
  const sentAt = parseTime(input.sentAt);
  if (original === undefined) return receivedAt;
  const corrected = sentAt === undefined ? original : receivedAt - (sentAt - original);
  return corrected > receivedAt + MAX_FUTURE_MS ? receivedAt : corrected;
}
