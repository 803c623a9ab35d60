/** Below this a number is epoch seconds, not millis: 1e11 ms is March 1973, 1e11 s the year 5138. */
const SECONDS_BELOW = 1e11;
/** JavaScript's (and so Avro timestamp-millis') range of dates, either side of 1970. */
const MAX_EPOCH_MS = 8.64e15;

/** Epoch seconds or millis as whole millis; undefined outside the range of dates. */
function fromEpoch(n: number): number | undefined {
  const ms = Math.round(Math.abs(n) < SECONDS_BELOW ? n * 1000 : n);
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : undefined;
}

/**
 * Parses a time into epoch millis, or undefined: an ISO 8601 string (or another form Date.parse
 * reads that names a year: `Tue, 01 Dec 2026 10:00:00 GMT`), or epoch seconds or millis as a
 * number or a string of digits (`1764583200`, Unix tools write seconds).
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^-?\d{1,16}(?:\.\d{1,6})?$/.test(text)) return fromEpoch(Number(text));
  // Date.parse reads much that is no time ("Dec 12" is in 2001): a time names its year.
  if (!/\d{4}/.test(text)) return undefined;
  const ms = Date.parse(text);
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
