import { InvalidArgumentError } from 'commander';
import { DLQ_REASONS, isDlqReason } from '@cdp/contracts';
import { parseIdentifier } from './operations-requests';

// Parsers of option values shared by the commands: a bad value stops the CLI (exit 2) before anything is sent.

export const positiveInt = (value: string): number => {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/** An integer from `min` to `max`: the bounds of the service it goes to, so a value out of them is not sent. */
export const intInRange =
  (min: number, max: number) =>
  (value: string): number => {
    // Digits only: Number() would also take 1e2, 0x10, +3 and ' 5'.
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };

/** An identifier argument, `type:value`; kept as typed (the service cleans the value). */
export const identifierArg = (value: string): string => {
  if (!parseIdentifier(value)) throw new InvalidArgumentError('must be type:value, e.g. email:jane@example.com');
  return value;
};

/** The types the collector gives an imported column (its `types` parameter). */
const COLUMN_TYPES = ['string', 'number', 'boolean'];

/**
 * `--types <column>:<type>,...` as the collector reads it (the column is what comes before the last
 * colon, so it may contain colons); kept as typed, only its form is checked.
 */
export const columnTypes = (value: string): string => {
  const seen = new Set<string>();
  for (const pair of value.split(',').filter((p) => p.trim() !== '')) {
    const at = pair.lastIndexOf(':');
    if (at <= 0 || !COLUMN_TYPES.includes(pair.slice(at + 1).trim()))
      throw new InvalidArgumentError(
        `"${pair}" must be <column>:<type> with a type of ${COLUMN_TYPES.join(', ')}, e.g. ltv:number,vip:boolean`,
      );
    const column = pair.slice(0, at).trim();
    if (seen.has(column)) throw new InvalidArgumentError(`column "${column}" is given two types`);
    seen.add(column);
  }
  return value;
};

/** `import --event` and `profiles get --event`: an event name as the collector and the profile-store take it, 1 to 200 characters once trimmed. */
export const eventName = (value: string): string => {
  const name = value.trim();
  if (name === '' || name.length > 200) throw new InvalidArgumentError('must be an event name of 1 to 200 characters');
  return name;
};

/** A DLQ reason code: one the stages write (a filter on any other would answer nothing). */
export const dlqReason = (value: string): string => {
  if (!isDlqReason(value)) throw new InvalidArgumentError(`must be a DLQ reason code: ${DLQ_REASONS.join(', ')}`);
  return value;
};

/** `--since`/`--until` as the services read them: a duration back from now (30m, 24h, 7d) or an ISO 8601 time; kept as typed. */
export const timeArg = (value: string): string => {
  const v = value.trim();
  const iso = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && Number.isFinite(Date.parse(v));
  if (!/^\d{1,9}[smhd]$/.test(v) && !iso) throw new InvalidArgumentError('must be an ISO 8601 time or a duration like 30m, 24h, 7d');
  return value;
};

const DURATION_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A rotation's grace period (`keys rotate --grace`): a duration like 90s, 30m, 24h, 7d, as whole seconds, at most 7 days. */
export const graceSeconds = (value: string): number => {
  const m = /^(\d{1,9})([smhd])$/.exec(value.trim());
  const seconds = m ? (Number(m[1]) * (DURATION_MS[m[2] as string] as number)) / 1000 : NaN;
  if (!(seconds >= 0 && seconds <= 7 * 86_400)) throw new InvalidArgumentError('must be a duration like 30m, 24h or 7d, at most 7d');
  return seconds;
};

/** Date.parse rolls 2026-02-30 over into March: the day must exist. */
const calendarDay = (ymd: string): boolean => {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(2000, m - 1, d));
  date.setUTCFullYear(y);
  return date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
};

/**
 * A `--since`/`--until` form of timeArg as an ISO 8601 UTC time, for a service that reads only
 * those (the profile-store): a duration back from `now`; a time without a zone is this machine's
 * local time. Null when it is not one of those forms or not a day of the calendar (2026-02-30).
 */
export function isoTime(value: string, now: number): string | null {
  const v = value.trim();
  const duration = /^(\d{1,9})([smhd])$/.exec(v);
  const ms = duration
    ? now - Number(duration[1]) * (DURATION_MS[duration[2] as string] as number)
    : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && calendarDay(v.slice(0, 10))
      ? Date.parse(v)
      : NaN;
  // Past the range of a Date (a duration of 999999999d), toISOString would throw.
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}

/** `profiles get --since/--until`: timeArg's forms, sent as ISO 8601 UTC (the profile-store takes no durations). */
export const isoTimeArg = (value: string): string => {
  const iso = isoTime(value, Date.now());
  if (iso === null) throw new InvalidArgumentError('must be an ISO 8601 time or a duration like 30m, 24h, 7d');
  return iso;
};

/** The profile-store's bound on `include`. */
export const MAX_INCLUDED_TRAITS = 100;

/** `profiles get --include`: trait names, comma-separated (trimmed, repeats dropped), 1 to 100 of them; sent joined by commas. */
export const traitNames = (value: string): string => {
  const names = [...new Set(value.split(',').map((n) => n.trim()))].filter((n) => n !== '');
  if (names.length === 0 || names.length > MAX_INCLUDED_TRAITS)
    throw new InvalidArgumentError(`must be 1 to ${MAX_INCLUDED_TRAITS} comma-separated trait names, e.g. plan,country`);
  return names.join(',');
};

/** The stages that write dead letters (DeadLetter.stage). */
export const DLQ_STAGES = ['normalizer', 'identity-resolver', 'profile-store', 'segmenter'];
