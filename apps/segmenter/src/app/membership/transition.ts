import type { ProfileChange, SegmentChange } from '@cdp/contracts';

/** The last transition of a membership, kept on its document so a lost produce can be repeated. */
export interface Transition {
  change: SegmentChange['change'];
  membershipVersion: number;
  profileVersion: number;
  occurredAt: number;
  receivedAt: number | null;
}

/** What the consumer needs from a stored membership. */
export interface MembershipState {
  member: boolean;
  membershipVersion: number;
  lastProfileVersion: number;
  lastTransition: Transition | null;
}

export interface Evaluation {
  isMember: boolean;
  profileVersion: number;
  receivedAt: number | null;
  now: number;
}

export type Decision =
  /** Nothing to write or emit. */
  | { kind: 'none' }
  /** The stored state already reflects this profile version: emit its transition again (same membershipVersion). */
  | { kind: 'reemit'; transition: Transition }
  /** A real transition: write it if the stored membershipVersion is still `expectedVersion` (null: no document yet), then emit. */
  | { kind: 'write'; transition: Transition; expectedVersion: number | null };

/**
 * Decides what a profile version means for one membership. Pure, so redelivery and
 * reordering can be reasoned about (and tested) without Mongo or Kafka:
 * - a version not newer than the stored one changes nothing, except that if it is the very version
 *   that caused the stored transition, that transition is emitted again (the produce may have been lost);
 * - a newer version that flips membership is a transition numbered one past the stored one.
 */
export function decide(stored: MembershipState | null, e: Evaluation): Decision {
  if (stored && e.profileVersion <= stored.lastProfileVersion) {
    const last = stored.lastTransition;
    return last && last.profileVersion === e.profileVersion ? { kind: 'reemit', transition: last } : { kind: 'none' };
  }
  const wasMember = stored?.member ?? false;
  if (e.isMember === wasMember) return { kind: 'none' };
  const current = stored?.membershipVersion ?? 0;
  return {
    kind: 'write',
    expectedVersion: stored ? current : null,
    transition: {
      change: e.isMember ? 'entered' : 'exited',
      membershipVersion: current + 1,
      profileVersion: e.profileVersion,
      occurredAt: e.now,
      receivedAt: e.receivedAt,
    },
  };
}

export function toSegmentChange(
  ids: { workspaceId: string; segmentId: string; segmentName: string; profileId: string },
  t: Transition,
): SegmentChange {
  return {
    workspaceId: ids.workspaceId,
    segmentId: ids.segmentId,
    segmentName: ids.segmentName,
    profileId: ids.profileId,
    change: t.change,
    membershipVersion: t.membershipVersion,
    occurredAt: t.occurredAt,
    profileVersion: t.profileVersion,
    receivedAt: t.receivedAt,
  };
}

/** A segment as the consumer sees it: id, name and whether a change of these traits matters. */
export interface SegmentRule {
  segmentId: string;
  name: string;
  readsAny(changedTraits: readonly string[]): boolean;
}

/**
 * The segments a profile change can move. Created and merged profiles may match anything; an
 * update only matters to segments that read a changed trait; a deletion exits every segment,
 * which the caller checks against stored memberships.
 */
export function segmentsToEvaluate<S extends SegmentRule>(
  segments: readonly S[],
  change: Pick<ProfileChange, 'change' | 'changedTraits'>,
): S[] {
  if (change.change === 'updated') return segments.filter((s) => s.readsAny(change.changedTraits));
  return [...segments];
}

/** The profile's traits from the change's JSON, or null when that is not a JSON object. */
export function parseTraits(json: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
