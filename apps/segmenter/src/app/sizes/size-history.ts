/** One UTC day of a segment's size: members at the end of the day and the transitions during it. */
export interface SizeDay {
  day: string;
  members: number;
  entered: number;
  exited: number;
}

/** Transitions counted on one day (or, for the running total, over all days). */
export interface DayCounts {
  entered: number;
  exited: number;
}

export const DAY_MS = 86_400_000;

/** The UTC day of an epoch-ms time, as `YYYY-MM-DD`. */
export const dayOf = (t: number): string => new Date(t).toISOString().slice(0, 10);

/**
 * The `days` UTC days ending with the day of `today`, oldest first; none before the day of `since`
 * (a segment's creation: it had no size before), but always today.
 */
export function lastDays(today: number, days: number, since = -Infinity): string[] {
  const end = Math.floor(today / DAY_MS) * DAY_MS;
  const first = Math.min(end, Math.max(end - (days - 1) * DAY_MS, Math.floor(since / DAY_MS) * DAY_MS));
  return Array.from({ length: (end - first) / DAY_MS + 1 }, (_, i) => dayOf(first + i * DAY_MS));
}

/**
 * Daily sizes from per-day counters and the running total: the members at the end of a day are
 * the current total minus the net change of every later day (later days with no counter changed
 * nothing). `after` holds counters of days after the listed ones (e.g. a transition dated
 * tomorrow by a clock ahead), so they are taken off too.
 */
export function sizeHistory(
  days: readonly string[],
  counts: ReadonlyMap<string, DayCounts>,
  total: DayCounts,
  after: DayCounts,
): SizeDay[] {
  let members = total.entered - total.exited - (after.entered - after.exited);
  const out: SizeDay[] = [];
  for (let i = days.length - 1; i >= 0; i--) {
    const day = days[i] as string;
    const c = counts.get(day) ?? { entered: 0, exited: 0 };
    out.push({ day, members, entered: c.entered, exited: c.exited });
    members -= c.entered - c.exited;
  }
  return out.reverse();
}
