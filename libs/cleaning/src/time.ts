/** Below this a number is epoch seconds, not millis: 1e11 ms is March 1973, 1e11 s the year 5138. */
const SECONDS_BELOW = 1e11;
/**
 * The earliest event time taken as given: earlier ones (`-1`, year 0000, seconds read as millis)
 * are a wrong clock or a wrong unit, and would become every profile's first_seen.
 */
export const MIN_EVENT_TIME = Date.UTC(2000, 0, 1);
/** JavaScript's (and so Avro timestamp-millis') latest date. */
const MAX_EPOCH_MS = 8.64e15;

const inRange = (ms: number): number | undefined => (Number.isFinite(ms) && ms >= MIN_EVENT_TIME && ms <= MAX_EPOCH_MS ? ms : undefined);

/** Epoch seconds or millis as whole millis. */
const fromEpoch = (n: number): number | undefined => inRange(Math.round(Math.abs(n) < SECONDS_BELOW ? n * 1000 : n));

/** ISO 8601 as events carry it: a date, then optionally a time (after `T` or a space) and a zone. */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
/** RFC 2822 (HTTP and e-mail dates, some webhooks): `Tue, 01 Dec 2026 10:00:00 GMT`. */
const RFC_2822 = /^(?:[a-z]{3},\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{4})\s+\d{2}:\d{2}(?::\d{2})?\s+(?:GMT|UTC|Z|[+-]\d{4})$/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** An ISO 8601 time; one without a zone is UTC (not the server's zone). A day the calendar lacks is no time. */
function isoTime(m: RegExpExecArray): number | undefined {
  const part = (i: number): number => Number(m[i] ?? 0);
  const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  let offset = 0;
  const zone = m[8]?.toUpperCase();
  if (zone && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const [h, min] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || 0)];
    if (h > 23 || min > 59) return undefined;
    offset = (zone.startsWith('-') ? -1 : 1) * (h * 60 + min) * 60_000;
  }
  return inRange(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset);
}

/**
 * Parses a time into epoch millis, or undefined: ISO 8601 (`2026-12-01T10:00:00Z`; without a
 * zone, UTC), RFC 2822, or epoch seconds or millis as a number or a string of digits
 * (`1764583200`: Unix tools write seconds). Other forms, days the calendar lacks (February 30)
 * and times before MIN_EVENT_TIME are no time: Date.parse would read "Dec 12" as 2001, move
 * February 30 to March 2 and read a zone-less time in the server's own zone.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^-?\d{1,16}(?:\.\d{1,6})?$/.test(text)) return fromEpoch(Number(text));
  const iso = ISO.exec(text);
  if (iso) return isoTime(iso);
  const rfc = RFC_2822.exec(text);
  if (!rfc) return undefined;
  const month = MONTHS.indexOf((rfc[2] as string).toLowerCase()) + 1;
  if (month === 0 || Number(rfc[1]) < 1 || Number(rfc[1]) > daysIn(Number(rfc[3]), month)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : inRange(ms);
}

/** How far after its receipt an event's time may be before it is taken for a wrong clock. */
export const MAX_FUTURE_MS = 10 * 60_000;

/**
 * Why an event's own time was not taken and receivedAt stands in: `unreadable` (a timestamp in no
 * form parseTime reads, a day the calendar lacks, or before MIN_EVENT_TIME), `future` (more than
 * MAX_FUTURE_MS after receipt once corrected), `past` (before MIN_EVENT_TIME once corrected).
 */
export type TimestampReplaced = 'unreadable' | 'future' | 'past';

/**
 * Event time corrected for the sender's clock skew (Segment's rule):
 * timestamp = receivedAt - (sentAt - originalTimestamp) when sentAt is given. A time more than
 * MAX_FUTURE_MS after receivedAt becomes receivedAt: a trait set by an event from a client clock
 * years ahead would otherwise outrank every real one (the newest event's value wins). Within that
 * margin a clock running a little fast keeps its events' order. `replaced` says why receivedAt
 * stands in for a time the event did give (null when it gave none, or its time was taken).
 */
const given = (v: unknown): boolean => v !== undefined && v !== null && (typeof v !== 'string' || v.trim() !== '');

export function correctedTimestamp(
  input: { timestamp?: unknown; originalTimestamp?: unknown; sentAt?: unknown },
  receivedAt: number,
): { timestamp: number; replaced: TimestampReplaced | null } {
  const original = parseTime(input.originalTimestamp) ?? parseTime(input.timestamp);
  if (original === undefined)
    return { timestamp: receivedAt, replaced: given(input.originalTimestamp) || given(input.timestamp) ? 'unreadable' : null };
  const sentAt = parseTime(input.sentAt);
  const corrected = sentAt === undefined ? original : receivedAt - (sentAt - original);
  if (corrected > receivedAt + MAX_FUTURE_MS) return { timestamp: receivedAt, replaced: 'future' };
  if (corrected < MIN_EVENT_TIME) return { timestamp: receivedAt, replaced: 'past' };
  return { timestamp: corrected, replaced: null };
}
