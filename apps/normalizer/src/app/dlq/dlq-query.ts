import { DLQ_REASONS, isDlqReason, type DlqReason } from '@cdp/contracts';

/** Filters of the DLQ listing and replay, parsed from query strings and bodies. */
export interface DlqFilter {
  reason?: DlqReason;
  stage?: string;
  since?: Date;
  until?: Date;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const REPLAY_DEFAULT_LIMIT = 1_000;
export const REPLAY_MAX_LIMIT = 10_000;
export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 500;

/**
 * A point in time: an ISO 8601 date or date-time (`2026-11-29`, `2026-11-29T20:00:00Z`), or a
 * duration back from now (`30m`, `24h`, `7d`), which is what people type on a command line.
 */
export function parseTime(what: string, value: unknown, now: number): Parsed<Date> {
  if (typeof value !== 'string' || value.trim() === '')
    return { ok: false, problem: `${what} must be an ISO 8601 time or a duration like 30m, 24h, 7d` };
  const v = value.trim();
  const relative = /^(\d{1,9})([smhd])$/.exec(v);
  if (relative) return { ok: true, value: new Date(now - Number(relative[1]) * (UNITS[relative[2] as string] as number)) };
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return { ok: true, value: new Date(t) };
  }
  return { ok: false, problem: `${what} must be an ISO 8601 time or a duration like 30m, 24h, 7d (got ${JSON.stringify(v.slice(0, 40))})` };
}

const CODE = /^[a-z0-9_.-]{1,64}$/;

/** reason, stage, since and until from a query string or body; unknown fields are refused. */
export function parseFilter(input: Record<string, unknown>, allowed: readonly string[], now: number): Parsed<DlqFilter> {
  const unknown = Object.keys(input).find((k) => !allowed.includes(k));
  if (unknown !== undefined) return { ok: false, problem: `unknown field ${JSON.stringify(unknown)} (known: ${allowed.join(', ')})` };
  const filter: DlqFilter = {};
  const { reason, stage } = input;
  // An unknown reason would match no letter and answer nothing, as if there were none: refused, with the codes.
  if (reason !== undefined) {
    if (!isDlqReason(reason)) {
      const got = typeof reason === 'string' ? ` (got ${JSON.stringify(reason.slice(0, 40))})` : '';
      return { ok: false, problem: `reason must be a DLQ reason code${got}: ${DLQ_REASONS.join(', ')}` };
    }
    filter.reason = reason;
  }
  if (stage !== undefined) {
    if (typeof stage !== 'string' || !CODE.test(stage)) return { ok: false, problem: 'stage must be a code such as normalizer' };
    filter.stage = stage;
  }
  for (const field of ['since', 'until'] as const) {
    if (input[field] === undefined) continue;
    const t = parseTime(field, input[field], now);
    if (!t.ok) return t;
    filter[field] = t.value;
  }
  if (filter.since && filter.until && filter.since > filter.until) return { ok: false, problem: 'since is after until' };
  return { ok: true, value: filter };
}

/** A limit from a query string (text) or a body (number), within bounds. */
export function parseLimit(value: unknown, fallback: number, max: number): Parsed<number> {
  if (value === undefined) return { ok: true, value: fallback };
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max)
    return { ok: false, problem: `limit must be an integer from 1 to ${max}` };
  return { ok: true, value: n };
}
