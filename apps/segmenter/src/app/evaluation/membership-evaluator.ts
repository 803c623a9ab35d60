import { Injectable } from '@nestjs/common';
import type { SegmentChange } from '@cdp/contracts';
import type { EvaluationContext, ProfileEvent } from '@cdp/segment-language';
import { SegmentEventsRepository } from '../history/segment-events.repository';
import { snapshotComputed, type SegmentProfileDocument } from '../history/segment-profiles.repository';
import { MembershipsRepository, type MembershipDocument } from '../membership/memberships.repository';
import { decide, parseTraits, pickTraits, stateAfter, toSegmentChange, type Transition } from '../membership/transition';
import { ScheduleRepository, type ScheduleDocument } from '../schedule/schedule.repository';
import { readsPredictions, type PredictedTraits } from '../predictions/order-histories';
import { SegmentPredictionsRepository } from '../predictions/segment-predictions.repository';
import type { CompiledSegment, WorkspaceSegments } from '../segments/segment-catalog';
import { SegmentSizesRepository } from '../sizes/segment-sizes.repository';

/** Compare-and-set attempts per membership before the evaluation fails (and its trigger is retried). */
const MAX_CAS_ATTEMPTS = 5;

/** The profile as evaluated: its latest known version, traits, computed traits and identifiers. */
export interface ProfileState {
  profileId: string;
  version: number;
  traits: Record<string, unknown>;
  /** Its computed traits (built-in and the workspace's own), as the last profile change carried them. */
  computed: Record<string, unknown>;
  deleted: boolean;
  identifiers: { type: string; value: string }[];
}

/** The profile as its stored snapshot holds it. */
export const snapshotState = (s: SegmentProfileDocument): ProfileState => ({
  profileId: s.profileId,
  version: s.version,
  traits: parseTraits(s.traits) ?? {},
  computed: snapshotComputed(s),
  deleted: s.deleted,
  identifiers: s.identifiers ?? [],
});

/** What caused the evaluation: evaluation time (windows) and the edge receipt time to copy out. */
export interface Trigger {
  asOf: number;
  receivedAt: number | null;
  /**
   * Only emit again the transitions this trigger caused and decide nothing: a redelivered change
   * the consumer evaluated to the end before. Decided again, it would read what was stored since
   * (events, other memberships, an erasure) with its stale traits, and could emit a transition
   * that never was.
   */
  repeatOnly?: boolean;
}

/** What a profile's evaluation reads besides its traits. */
export interface ProfileData {
  events: ProfileEvent[];
  memberships: Map<string, MembershipDocument>;
  /** Stored predictions (predicted_* traits), read over the profile's traits when evaluated. */
  predicted?: PredictedTraits;
  /**
   * The profile's schedule entries (windowed segments), when read with the consumer's chunk: an
   * evaluation that leaves an entry as it is (or absent) writes nothing. Absent: always written.
   */
  schedule?: Map<string, ScheduleDocument>;
}

/**
 * Evaluates a profile's memberships and stores each transition (compare-and-set), in dependency
 * order so that a segment reading another sees its new membership; writes the next due time of
 * every windowed membership it evaluates. Shared by the consumer, the timer and backfill so all
 * three follow the same membershipVersion rules. Returns the records to produce.
 */
@Injectable()
export class MembershipEvaluator {
  constructor(
    private readonly memberships: MembershipsRepository,
    private readonly events: SegmentEventsRepository,
    private readonly schedule: ScheduleRepository,
    private readonly predictions: SegmentPredictionsRepository,
    private readonly sizes: SegmentSizesRepository,
  ) {}

  /** Events and memberships (in the workspace's segments) of many profiles, read by document id. */
  async load(
    workspaceId: string,
    profileIds: string[],
    eventNames: ReadonlySet<string>,
    segmentIds: readonly string[],
    traitsRead: ReadonlySet<string>,
  ): Promise<Map<string, ProfileData>> {
    const [events, memberships, predicted] = await Promise.all([
      this.events.forProfiles(workspaceId, profileIds, [...eventNames]),
      this.memberships.forProfiles(workspaceId, profileIds, [...segmentIds]),
      // One more read only for workspaces with a segment on a predicted trait.
      readsPredictions(traitsRead) ? this.predictions.traitsFor(workspaceId, profileIds) : new Map<string, PredictedTraits>(),
    ]);
    return new Map(
      profileIds.map((id) => [
        id,
        { events: events.get(id) ?? [], memberships: memberships.get(id) ?? new Map(), predicted: predicted.get(id) },
      ]),
    );
  }

  /**
   * What many profiles' evaluations read besides their events: memberships and predictions, one
   * `_id` read each for a whole chunk. Events are read per trigger (the trigger's own event is
   * stored first). A profile with nothing stored is absent.
   */
  async loadStates(
    workspaceId: string,
    profileIds: string[],
    segments: WorkspaceSegments,
  ): Promise<Map<string, Omit<ProfileData, 'events'>>> {
    const windowed = segments.ordered.filter((s) => s.compiled.windowed).map((s) => s.segmentId);
    const [memberships, predicted, schedule] = await Promise.all([
      this.memberships.forProfiles(workspaceId, profileIds, segmentIdsOf(segments)),
      readsPredictions(segments.traits) ? this.predictions.traitsFor(workspaceId, profileIds) : new Map<string, PredictedTraits>(),
      this.schedule.forProfiles(workspaceId, profileIds, windowed),
    ]);
    return new Map(
      profileIds.map((id) => [
        id,
        { memberships: memberships.get(id) ?? new Map(), predicted: predicted.get(id), schedule: schedule.get(id) ?? new Map() },
      ]),
    );
  }

  /**
   * Evaluates the segments `only` (and those reading them) on stored snapshots, as of now, with one
   * read for all of them: backfill's pages, and a definition a consumer chunk had not seen yet.
   */
  async evaluateSnapshots(
    workspaceId: string,
    segments: WorkspaceSegments,
    snapshots: readonly SegmentProfileDocument[],
    only: ReadonlySet<string>,
  ): Promise<SegmentChange[]> {
    if (snapshots.length === 0) return [];
    const ids = snapshots.map((p) => p.profileId);
    const data = await this.load(workspaceId, ids, eventsReadFrom(segments, only), segmentIdsOf(segments), segments.traits);
    const trigger = { asOf: Date.now(), receivedAt: null };
    const changes = await Promise.all(
      snapshots.map((p) => this.evaluate(workspaceId, segments, snapshotState(p), only, trigger, data.get(p.profileId))),
    );
    return changes.flat();
  }

  /**
   * @param direct ids of the segments the trigger can move directly; segments reading a segment
   *   that moved are evaluated too.
   */
  async evaluate(
    workspaceId: string,
    segments: WorkspaceSegments,
    profile: ProfileState,
    direct: ReadonlySet<string>,
    trigger: Trigger,
    preloaded?: ProfileData,
    counted?: Promise<void>[],
  ): Promise<SegmentChange[]> {
    // Only the events the segments this trigger can reach count: a trait change of a workspace
    // whose event segments it cannot move reads no event history (one round trip less).
    const data =
      preloaded ??
      (await this.load(workspaceId, [profile.profileId], eventsReadFrom(segments, direct), segmentIdsOf(segments), segments.traits)).get(
        profile.profileId,
      );
    const stored = data?.memberships ?? new Map<string, MembershipDocument>();
    const members = new Set([...stored.values()].filter((m) => m.member).map((m) => m.segmentId));
    const moved = new Set<string>();
    const out: SegmentChange[] = [];
    // Predictions are traits to segments; the profile's own traits keep their names (predicted_* are reserved).
    const traits = data?.predicted ? { ...profile.traits, ...data.predicted } : profile.traits;
    for (const segment of segments.ordered) {
      if (!direct.has(segment.segmentId) && ![...segment.compiled.segments].some((id) => moved.has(id))) continue;
      const state = stored.get(segment.segmentId) ?? null;
      // Never evaluate a membership as of an earlier time than its last transition: a lagging
      // change must not count again an event the timer already saw leave its window.
      const asOf = Math.max(trigger.asOf, state?.lastAsOf ?? 0);
      const context: EvaluationContext = {
        traits,
        computed: profile.computed,
        events: data?.events ?? [],
        memberships: members,
        now: asOf,
      };
      // A deleted profile leaves every segment, whatever its definition says about empty traits.
      const isMember = !profile.deleted && segment.compiled.matches(context);
      const { transition, member, after } = await this.settle(
        workspaceId,
        segment,
        profile,
        isMember,
        { ...trigger, asOf },
        trigger.asOf,
        state,
        counted,
      );
      // What was preloaded stays current for the profile's next change in the same chunk.
      if (after) stored.set(segment.segmentId, after);
      if (member) members.add(segment.segmentId);
      else members.delete(segment.segmentId);
      if (transition) {
        moved.add(segment.segmentId);
        out.push(
          toSegmentChange(
            {
              workspaceId,
              segmentId: segment.segmentId,
              segmentName: segment.name,
              segmentVersion: segment.version,
              profileId: profile.profileId,
              identifiers: profile.identifiers,
              traits: pickTraits(traits, segment.outputTraits),
            },
            transition,
          ),
        );
      }
      if (segment.compiled.windowed && !trigger.repeatOnly) {
        const next = profile.deleted ? null : segment.compiled.nextChangeAt(context);
        await this.reschedule(workspaceId, segment.segmentId, profile.profileId, next, data?.schedule);
      }
    }
    return out;
  }

  /**
   * Writes a windowed membership's next due time (null: none), unless `known` (the chunk's read,
   * kept current) shows it stored as it is and unclaimed, or absent for null: the write and the
   * bucket placement cost two round trips, and most changes leave the due time where it was.
   */
  private async reschedule(
    workspaceId: string,
    segmentId: string,
    profileId: string,
    next: number | null,
    known?: Map<string, ScheduleDocument>,
  ): Promise<void> {
    const entry = known?.get(segmentId);
    if (known && (next === null ? entry === undefined : entry?.dueAt === next && entry.leaseUntil === 0)) return;
    await this.schedule.set(workspaceId, segmentId, profileId, next);
    if (next === null) known?.delete(segmentId);
    else known?.set(segmentId, { workspaceId, segmentId, profileId, dueAt: next, leaseUntil: 0, leaseOwner: '' });
  }

  /**
   * Decides and stores one membership (compare-and-set, re-reading on conflict). With `counted`,
   * the size counter's write is handed to the caller, which awaits it before committing, instead
   * of being awaited here: the produce need not wait for it. Also returns the membership as
   * stored after it (as far as this evaluation knows).
   */
  private async settle(
    workspaceId: string,
    segment: CompiledSegment,
    profile: ProfileState,
    isMember: boolean,
    trigger: Trigger,
    triggerAsOf: number,
    initial: MembershipDocument | null,
    counted?: Promise<void>[],
  ): Promise<{ transition: Transition | null; member: boolean; after: MembershipDocument | null }> {
    let stored = initial;
    const { profileId } = profile;
    const { segmentId } = segment;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const decision = decide(stored, {
        isMember,
        profileVersion: profile.version,
        asOf: trigger.asOf,
        triggerAsOf,
        receivedAt: trigger.receivedAt,
        now: Date.now(),
      });
      if (decision.kind === 'none' || (decision.kind === 'write' && trigger.repeatOnly))
        return { transition: null, member: stored?.member ?? false, after: stored };
      if (decision.kind === 'reemit')
        return { transition: decision.transition, member: decision.transition.change === 'entered', after: stored };
      const { transition } = decision;
      if (await this.memberships.applyTransition(workspaceId, segmentId, profileId, decision.expectedVersion, transition, stored)) {
        // Counted once, by the writer that won the compare-and-set (a re-emit is not counted again).
        const count = this.sizes.count(workspaceId, segmentId, transition);
        if (counted) {
          // Handled now so a failure is not an unhandled rejection before the caller awaits it.
          count.catch(() => undefined);
          counted.push(count);
        } else await count;
        const after = { workspaceId, segmentId, profileId, ...stateAfter(transition, stored), updatedAt: new Date(transition.occurredAt) };
        return { transition, member: isMember, after };
      }
      stored = (await this.memberships.forProfile(workspaceId, profileId, [segmentId])).get(segmentId) ?? null;
    }
    throw new Error(`membership ${segment.segmentId}/${profileId} kept changing under compare-and-set`);
  }
}

/** Ids of every segment of the workspace, whose memberships an evaluation may read or move. */
export const segmentIdsOf = (segments: WorkspaceSegments): string[] => segments.ordered.map((s) => s.segmentId);

/**
 * Event names counted by the segments an evaluation of `direct` can reach: those segments and,
 * transitively, every segment that reads one of them (`ordered` lists a segment after those it reads).
 */
export function eventsReadFrom(segments: WorkspaceSegments, direct: ReadonlySet<string>): Set<string> {
  const reached = new Set<string>();
  const names = new Set<string>();
  for (const s of segments.ordered) {
    if (!direct.has(s.segmentId) && ![...s.compiled.segments].some((id) => reached.has(id))) continue;
    reached.add(s.segmentId);
    for (const name of s.events) names.add(name);
  }
  return names;
}
