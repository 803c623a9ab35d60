import {
  decide,
  identifierDigest,
  identifierKey,
  type Decision,
  type Demotion,
  type Identifier,
  type ProfileState,
  type ResolutionInput,
} from '@cdp/identity-graph';
import { formatWindow, type LimitWindow } from './identity-rules';

/**
 * Windowed limits (brief section 4: "limits per identifier type, optionally per time window").
 * Pure: the resolver gives each profile the event times at which its identifiers were added and
 * the time of the event being resolved.
 */

/** When an identifier of a type was added to a profile: the timestamp of the event that attached it. */
export interface Stamp {
  type: string;
  at: number;
  /** The identifier's digest (`identifierDigest`), so it counts once in a window however many times it has. */
  key: string;
}

export interface WindowedProfileState extends ProfileState {
  /** One per identifier added since stamps exist; identifiers counted before that have none. */
  stamps: Stamp[];
}

export interface WindowedInput extends ResolutionInput {
  profiles: WindowedProfileState[];
  /** Windowed types (their lifetime limit in `rules.limits` should be unlimited). */
  windows: Record<string, LimitWindow>;
  /** Event time of the event being resolved: the time its new identifiers are added at. */
  at: number;
}

/** The most times within one window [s, s + windowMs), over every s. */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** The most distinct keys with a time within one window [s, s + windowMs), over every s (a key may have several times). */
export function maxDistinctInWindow(points: readonly { key: string; at: number }[], windowMs: number): number {
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const inWindow = new Map<string, number>();
  let best = 0;
  let lo = 0;
  for (const point of sorted) {
    inWindow.set(point.key, (inWindow.get(point.key) ?? 0) + 1);
    for (; point.at - (sorted[lo] as { at: number }).at >= windowMs; lo++) {
      const key = (sorted[lo] as { key: string }).key;
      const n = (inWindow.get(key) ?? 0) - 1;
      if (n === 0) inWindow.delete(key);
      else inWindow.set(key, n);
    }
    best = Math.max(best, inWindow.size);
  }
  return best;
}

/**
 * How many identifiers of `type` the profiles and `extra` points hold within the fullest window.
 * Identifiers without a stamp (counted before stamps were kept) are assumed to be in every
 * window: stricter, so a missed merge rather than a wrong one.
 */
function windowCount(
  profiles: readonly WindowedProfileState[],
  extra: readonly { key: string; at: number }[],
  type: string,
  windowMs: number,
): number {
  const stamps = profiles.flatMap((p) => p.stamps.filter((s) => s.type === type));
  const unstamped = profiles.reduce(
    (sum, p) => sum + Math.max(0, (p.counts[type] ?? 0) - p.stamps.filter((s) => s.type === type).length),
    0,
  );
  return maxDistinctInWindow([...stamps, ...extra], windowMs) + unstamped;
}

/**
 * The windowed limit joining `profiles` and adding `attach` at time `at` breaks, named like the
 * rules (`limits.email: 2 per 30d`), or null. A window is broken when the result
 * holds more than `max` identifiers of a type within some window, and more than any of the
 * profiles already does (like lifetime limits, a profile over its limit may still receive
 * events; it just may not grow in that type).
 *
 * An identifier counts in a window when it was added within it, and also when this event, which
 * carries it (`carried`: the event's known identifiers), is within it: the event shows the person
 * had it then (so a known identifier can be demoted too, leaving it out of the resolved event).
 * Without that, a redelivered event could decide otherwise than its first delivery: an identifier
 * it demoted, attached since at another time, would count elsewhere in time and let the redelivery
 * merge, or attach what was demoted alongside it.
 */
export function brokenWindow(
  profiles: readonly WindowedProfileState[],
  attach: readonly Identifier[],
  windows: Record<string, LimitWindow>,
  at: number,
  carried: readonly Identifier[] = [],
): string | null {
  const broken = Object.entries(windows).find(([type, { max, windowMs }]) => {
    const added = attach.filter((id) => id.type === type);
    const seen = carried.filter((id) => id.type === type);
    if (added.length === 0 && seen.length === 0 && profiles.length < 2) return false;
    const points = [...added, ...seen].map((id) => ({ key: identifierDigest(id), at }));
    const n = windowCount(profiles, points, type, windowMs);
    const largest = Math.max(0, ...profiles.map((p) => windowCount([p], [], type, windowMs)));
    return n > max && n > largest;
  });
  return broken ? `limits.${broken[0]}: ${broken[1].max} per ${formatWindow(broken[1].windowMs)}` : null;
}

/**
 * Flat matching with windowed limits: `decide` enforces the lifetime limits; when its decision
 * would break a windowed one, the weakest kept identifier is demoted and matching retried, as
 * `decide` does for the lifetime limits (so demotion order is the same: weakest first).
 */
export function decideWithinWindows(input: WindowedInput): Decision {
  const profiles = new Map(input.profiles.map((p) => [p.profileId, p]));
  let identifiers = input.identifiers;
  let demoted: Demotion[] = [];
  for (;;) {
    const d = decide({ ...input, identifiers });
    if (d.action === 'none') return d;
    demoted = [...demoted, ...d.demoted];
    const involved = [d.profileId, ...d.merges.map((m) => m.fromProfileId)].flatMap((id) => profiles.get(id) ?? []);
    // One identifier can never break a limit (new on a new profile, or already counted).
    const attached = new Set(d.attach.map(identifierKey));
    const carried = d.identifiers.filter((id) => !attached.has(identifierKey(id)));
    const limit = d.identifiers.length > 1 ? brokenWindow(involved, d.attach, input.windows, input.at, carried) : null;
    if (limit !== null) {
      demoted = [...demoted, { identifier: d.identifiers.at(-1) as Identifier, limit }];
      identifiers = d.identifiers.slice(0, -1);
      continue;
    }
    return { ...d, demoted };
  }
}
