import { limitOf, type Identifier, type IdentityRules } from '@cdp/identity-graph';
import type { AbsorbedProfile, IdentityProfileDoc, MergeInfo, MergeOutcome } from './identity-profiles.repository';

/**
 * Per identifier type, the most a profile may already hold for an update adding `adding` of it to
 * stay within the type's lifetime limit. Types without a finite lifetime limit (windowed ones
 * included: their limit is checked when an event is decided) are absent. An update is written
 * only while the stored counts are within these caps, so two instances that decided on the same
 * stale counts cannot both take a profile past a limit: the second one's update does not match
 * and its event is decided again.
 */
export type CountCaps = Record<string, number>;

export function countCaps(rules: IdentityRules, adding: Record<string, number>): CountCaps {
  const caps: CountCaps = {};
  for (const [type, n] of Object.entries(adding)) {
    const max = limitOf(rules, type);
    if (n > 0 && Number.isFinite(max)) caps[type] = max - n;
  }
  return caps;
}

/** How many identifiers of each type. */
export function countByType(ids: readonly Identifier[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) counts[id.type] = (counts[id.type] ?? 0) + 1;
  return counts;
}

/** Whether stored counts are within the caps (a missing count is 0). */
export const withinCaps = (counts: Record<string, number>, caps: CountCaps): boolean =>
  Object.entries(caps).every(([type, cap]) => (counts[type] ?? 0) <= cap);

/** `withinCaps` as a filter on an identity profile document (`$not $gt` also matches a missing count). */
export const capsFilter = (caps: CountCaps): Record<string, unknown> =>
  Object.fromEntries(Object.entries(caps).map(([type, cap]) => [`counts.${type}`, { $not: { $gt: cap } }]));

/**
 * The most merges a survivor may already hold for taking in `from` (1 merge, and the ones `from`
 * took in) to keep it within maxMerges: the merges' counterpart of the caps.
 */
export const mergesCap = (rules: IdentityRules, from: AbsorbedProfile): number => rules.maxMerges - 1 - (from.merges ?? 0);

/** `mergesCap` as a filter on an identity profile document ({} when unlimited). */
export const mergesCapFilter = (cap: number): Record<string, unknown> => (Number.isFinite(cap) ? { merges: { $not: { $gt: cap } } } : {});

/** What an absorbed profile's slot added to the survivor's merges: none for one stored before merges were counted. */
export const mergesAddedBy = (slot: { merges?: number }): number => (slot.merges === undefined ? 0 : 1 + slot.merges);

/** The writes of a merge, as IdentityProfilesRepository has them. */
export interface MergeWrites {
  absorbCounts(ws: string, into: string, from: AbsorbedProfile, caps: CountCaps, mergesCap?: number): Promise<boolean>;
  unabsorbCounts(ws: string, into: string, from: AbsorbedProfile): Promise<void>;
  markMerged(ws: string, from: string, into: string, merge: MergeInfo, countsVersion: number | undefined): Promise<MergeOutcome>;
}

/**
 * Merges `from` into `into` within the survivor's lifetime limits and maxMerges. The absorbed
 * counts go to the survivor first, while it is live and within the caps ('survivor_changed' when
 * a concurrent merge or attach got there first, or the same merge absorbed a newer read), then
 * the absorbed pointer's compare-and-set, which also fails when the absorbed profile's counts
 * changed since they were read (they would be added stale); a lost pointer ('conflict') takes the
 * counts back out. A crash between the two leaves the survivor over-counted (stricter, never
 * looser) until the event's redelivery makes the same merge (its newer read replacing the
 * counts), or leaves it.
 */
export async function mergeWithinLimits(
  writes: MergeWrites,
  ws: string,
  from: IdentityProfileDoc,
  into: string,
  merge: MergeInfo,
  rules: IdentityRules,
): Promise<MergeOutcome | { status: 'survivor_changed' }> {
  const absorbed = await writes.absorbCounts(ws, into, from, countCaps(rules, from.counts), mergesCap(rules, from));
  if (!absorbed) return { status: 'survivor_changed' };
  const outcome = await writes.markMerged(ws, from.profileId, into, merge, from.countsVersion);
  if (outcome.status === 'conflict') await writes.unabsorbCounts(ws, into, from);
  return outcome;
}
