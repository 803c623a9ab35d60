import { parseLimit, parseTime, type Parsed } from '../dlq/dlq-query';
import { MAX_EVENT_CHARS } from './violation-summary';

/** Filters of the violations listing. */
export interface ViolationsQuery {
  /** A track event's name, exactly. */
  event?: string;
  /** Rows last seen at or after this time. */
  since?: Date;
  limit: number;
}

export const VIOLATIONS_DEFAULT_LIMIT = 50;
export const VIOLATIONS_MAX_LIMIT = 200;
const KNOWN = ['event', 'since', 'limit'];

/** `event`, `since` (ISO 8601 or a duration back from now, as the DLQ listing) and `limit` from a query string; anything else is refused. */
export function parseViolationsQuery(input: Record<string, unknown>, now: number): Parsed<ViolationsQuery> {
  const unknown = Object.keys(input).find((k) => !KNOWN.includes(k));
  if (unknown !== undefined) return { ok: false, problem: `unknown filter ${JSON.stringify(unknown)} (known: ${KNOWN.join(', ')})` };
  const limit = parseLimit(input['limit'], VIOLATIONS_DEFAULT_LIMIT, VIOLATIONS_MAX_LIMIT);
  if (!limit.ok) return limit;
  const query: ViolationsQuery = { limit: limit.value };
  const { event, since } = input;
  if (event !== undefined) {
    // Stored names are cut at MAX_EVENT_CHARS: a longer one would match nothing, silently.
    if (typeof event !== 'string' || event === '' || event.length > MAX_EVENT_CHARS)
      return { ok: false, problem: `event must be one event name of 1 to ${MAX_EVENT_CHARS} characters` };
    query.event = event;
  }
  if (since !== undefined) {
    const t = parseTime('since', since, now);
    if (!t.ok) return t;
    query.since = t.value;
  }
  return { ok: true, value: query };
}
