import type { ProfileChange, SegmentChange } from '@cdp/contracts';

/** The last transition of a membership, kept on its document so a lost produce can be repeated. */
export interface Transition {
  change: SegmentChange['change'];
  membershipVersion: number;
  profileVersion: number;
  /** The evaluation time of the trigger (see Evaluation.asOf); absent on transitions stored before windows existed. */
  asOf?: number;
  /**
   * The trigger's own time, when `asOf` was raised above it (see Evaluation.triggerAsOf): what
   * recognises its redelivery once later transitions moved the stored time on.
   */
  triggerAsOf?: number;
  occurredAt: number;
  receivedAt: number | null;
}

/** What the consumer needs from a stored membership. */
export interface MembershipState {
  member: boolean;
  membershipVersion: number;
  lastProfileVersion: number;
  /** asOf of the trigger that caused the last transition (absent: 0). */
  lastAsOf?: number;
  lastTransition: Transition | null;
  /**
   * The transitions before the last one, oldest first (at most KEPT_TRANSITIONS - 1). A chunk can
   * move one membership twice (entered, then exited) before its records are produced; if that
   * produce fails, the redelivered chunk must emit both again, not only the last.
   */
  earlierTransitions?: Transition[];
}

/** Transitions a membership keeps for re-emission: more flips than this in one failed chunk lose the oldest. */
export const KEPT_TRANSITIONS = 8;

/** A membership's state once a transition is stored over `stored` (null: none was). */
export const stateAfter = (t: Transition, stored: MembershipState | null): MembershipState => ({
  member: t.change === 'entered',
  membershipVersion: t.membershipVersion,
  lastProfileVersion: t.profileVersion,
  lastAsOf: t.asOf ?? 0,
  lastTransition: t,
  earlierTransitions: earlierFor(stored),
});

/** The earlier transitions to store with a new one (the stored last one joins them). */
export const earlierFor = (stored: MembershipState | null): Transition[] =>
  stored?.lastTransition ? [...(stored.earlierTransitions ?? []), stored.lastTransition].slice(-(KEPT_TRANSITIONS - 1)) : [];

/**
 * One evaluation of a membership. Its trigger is (profileVersion, asOf), ordered
 * lexicographically: a profile change is (its version, its changedAt), a timer firing is
 * (the latest version, the due time), a backfill batch is (the snapshot version, the batch time).
 * Both parts are fixed for a trigger, so a retried trigger is recognised and not counted twice.
 */
export interface Evaluation {
  isMember: boolean;
  profileVersion: number;
  asOf: number;
  /**
   * The trigger's own time when `asOf` was raised to the stored one (a redelivered change older
   * than the last transition): a kept transition it caused is recognised by it, since that
   * transition was stored with it.
   */
  triggerAsOf?: number;
  receivedAt: number | null;
  now: number;
}

/** Whether trigger a comes strictly after trigger b. */
export const isAfter = (a: { profileVersion: number; asOf: number }, b: { profileVersion: number; asOf: number }): boolean =>
  a.profileVersion > b.profileVersion || (a.profileVersion === b.profileVersion && a.asOf > b.asOf);

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
 *   that caused a kept transition (the last or an earlier one), that transition is emitted again
 *   (the produce may have been lost);
 * - a newer version that flips membership is a transition numbered one past the stored one.
 */
export function decide(stored: MembershipState | null, e: Evaluation): Decision {
  if (stored && !isAfter(e, { profileVersion: stored.lastProfileVersion, asOf: stored.lastAsOf ?? 0 })) {
    const kept = [...(stored.earlierTransitions ?? []), ...(stored.lastTransition ? [stored.lastTransition] : [])];
    const own = e.triggerAsOf ?? e.asOf;
    const caused = kept.find(
      (t) => t.profileVersion === e.profileVersion && ((t.asOf ?? 0) === e.asOf || (t.triggerAsOf ?? t.asOf ?? 0) === own),
    );
    return caused ? { kind: 'reemit', transition: caused } : { kind: 'none' };
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
      asOf: e.asOf,
      ...(e.triggerAsOf !== undefined && e.triggerAsOf !== e.asOf ? { triggerAsOf: e.triggerAsOf } : {}),
      occurredAt: e.now,
      receivedAt: e.receivedAt,
    },
  };
}

/** What a segment change says besides the transition: who, which segment (and version), and the payload. */
export interface ChangeSubject {
  workspaceId: string;
  segmentId: string;
  segmentName: string;
  segmentVersion: number;
  profileId: string;
  identifiers: { type: string; value: string }[];
  /** The traits the segment asks to carry (outputTraits), or null. */
  traits: Record<string, unknown> | null;
}

export function toSegmentChange(ids: ChangeSubject, t: Transition): SegmentChange {
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
    segmentVersion: ids.segmentVersion,
    identifiers: ids.identifiers,
    traits: ids.traits === null ? null : JSON.stringify(ids.traits),
  };
}

/** The named traits of a profile (those it has); null when the segment names none. */
export function pickTraits(traits: Record<string, unknown>, names: readonly string[]): Record<string, unknown> | null {
  if (names.length === 0) return null;
  const picked: Record<string, unknown> = {};
  for (const name of names) if (Object.prototype.hasOwnProperty.call(traits, name)) picked[name] = traits[name];
  return picked;
}

/** A segment as the consumer sees it: id, name and what it reads. */
export interface SegmentRule {
  segmentId: string;
  name: string;
  readsAny(changedTraits: readonly string[]): boolean;
  /** Event names its event conditions count. */
  events: ReadonlySet<string>;
  /** Computed trait names its conditions read. */
  computed: ReadonlySet<string>;
}

/**
 * The segments a profile change can move directly. Created and merged profiles may match
 * anything; an update only matters to segments that read a changed trait, count the change's
 * event or read any computed trait (computed values move with most events, and no change names
 * the computed traits that moved); a deletion exits every segment, which the caller checks
 * against stored memberships. (Segments reading the membership of a moved segment are the
 * evaluator's business.)
 */
export function segmentsToEvaluate<S extends SegmentRule>(
  segments: readonly S[],
  change: Pick<ProfileChange, 'change' | 'changedTraits' | 'eventName'>,
): S[] {
  if (change.change === 'updated') {
    const event = change.eventName;
    return segments.filter((s) => s.computed.size > 0 || s.readsAny(change.changedTraits) || (event !== null && s.events.has(event)));
  }
  return [...segments];
}

/** The profile's traits (or an event's properties) from JSON, or null when that is not a JSON object. */
export function parseTraits(json: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
