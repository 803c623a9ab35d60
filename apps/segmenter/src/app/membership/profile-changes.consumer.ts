import { Injectable } from '@nestjs/common';
import { Topics, workspaceOfKey, type ProfileChange, type SegmentChange } from '@cdp/contracts';
import { awaitAll, DecodeError, KafkaGateway, PipelineConsumer, type InboundRecord, type Rejection } from '@cdp/kafka';
import { groupBy, HealthRegistry, Metrics } from '@cdp/platform';
import { SegmentChangePublisher, type OutgoingChange } from '../evaluation/segment-change-publisher';
import { eventsReadFrom, MembershipEvaluator } from '../evaluation/membership-evaluator';
import { boundedProperties } from '../history/history-limits';
import { SegmentEventsRepository, type HistoryEvent } from '../history/segment-events.repository';
import {
  SegmentProfilesRepository,
  type EvaluatedMark,
  type ProfileSnapshot,
  type StoredBefore,
} from '../history/segment-profiles.repository';
import { ORDER_EVENT } from '../predictions/order-histories';
import { SegmentCatalog, type WorkspaceSegments } from '../segments/segment-catalog';
import {
  absorbedBy,
  addEvent,
  absorbedIds,
  eventOf,
  identifiersOf,
  stateKey,
  type AbsorbedMark,
  type ChunkState,
  type Decoded,
  type MovedEvent,
} from './chunk-records';
import { ChunkCatalogCheck } from './chunk-catalog-check';
import { parseTraits, segmentsToEvaluate } from './transition';

/**
 * cdp.profiles.changes.v1 -> segment evaluation -> cdp.segments.changes.v1.
 * Per chunk: the records are decoded; the stored memberships (and predictions) and event
 * histories of their profiles read at once, by `_id`; their snapshots (traits and computed
 * traits) and then their events stored in one batch per workspace. Per change, in order per
 * profile: the memberships are evaluated and written. Then the records are produced, and only
 * then the offsets committed; a redelivered record re-emits the transitions it caused (see README).
 * A merge's absorbed profiles leave every segment, and their events count for the survivor. A
 * definition created, changed or deleted while the chunk was in flight is seen to (ChunkCatalogCheck).
 */
@Injectable()
export class ProfileChangesConsumer extends PipelineConsumer {
  constructor(
    kafka: KafkaGateway,
    metrics: Metrics,
    health: HealthRegistry,
    private readonly catalog: SegmentCatalog,
    private readonly evaluator: MembershipEvaluator,
    private readonly profiles: SegmentProfilesRepository,
    private readonly events: SegmentEventsRepository,
    private readonly publisher: SegmentChangePublisher,
    private readonly catalogCheck: ChunkCatalogCheck,
  ) {
    super(kafka, metrics, health, [Topics.profileChanges], 'segmenter');
  }

  protected async prepare(): Promise<void> {
    await this.publisher.ready();
  }

  protected async handle(records: InboundRecord[]): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    const decoded: Decoded[] = [];
    for (const result of await Promise.all(records.map((r) => this.decodeOne(r)))) {
      if (result === null) continue;
      if ('reason' in result) rejections.push(result);
      else decoded.push(...absorbedBy(result), result);
    }
    // The snapshots (for the timer, backfill and preview; the evaluation reads the changes
    // themselves) are stored before the memberships they lead to, in one batch per workspace, so a
    // backfill never reads a snapshot older than a membership already written. The chunk's events
    // are stored once its read of the histories is done (each change adds its own event to that
    // read, in order), beside the snapshots' writes: before any evaluation counts them.
    const [states, before] = await Promise.all([
      this.loadStates(decoded).then(async ({ states, moved }) => {
        await this.recordEvents(decoded, moved);
        return states;
      }),
      this.saveSnapshots(decoded),
    ]);
    // Changes of one profile in order, different profiles concurrently.
    const byKey = groupBy(decoded, (d) => stateKey(d.change.workspaceId, d.change.profileId));
    // Size counter writes of the chunk's transitions: stored before the commit, not before the produce.
    const counted: Promise<void>[] = [];
    // Snapshots to mark absorbed, written with the chunk's marks (off the evaluations' path).
    const absorbed: AbsorbedMark[] = [];
    const outputs = await awaitAll(
      [...byKey.values()].map(async (group) => {
        const changes: OutgoingChange[] = [];
        for (const d of group) {
          const result = await this.evaluateOne(d, states, before, counted, absorbed);
          if (result.length > 0) {
            const headers = this.traceHeaders(d.record);
            changes.push(...result.map((change) => ({ change, headers })));
          }
        }
        return changes;
      }),
    );
    const outgoing = [...outputs.flat(), ...(await this.catalogCheck.lateDefinitions(decoded, absorbed)).map((change) => ({ change }))];
    await awaitAll([
      this.publisher.publishTraced(outgoing).then(() =>
        this.catalogCheck.deletedDefinitions(
          decoded,
          outgoing.map((o) => o.change),
        ),
      ),
      ...counted,
      this.markEvaluated(decoded, before),
      // After the chunk's own event writes: one of them may be an absorbed profile's, moved to an erased survivor.
      Promise.allSettled(counted).then(() => this.forgetErased(decoded)),
      ...[...groupBy(absorbed, (m) => m.workspaceId)].map(([workspaceId, marks]) => this.profiles.markAbsorbed(workspaceId, marks)),
    ]);
    return rejections;
  }

  /**
   * Each profile's last record of the chunk, as evaluated to the end (before the commit); only for
   * profiles with more than one record in it. A redelivery after a lost commit is the chunk in
   * flight; a profile's only record in it reads on redelivery what it read the first time (its own
   * effects aside, which `decide` recognises), so it needs no mark and costs no write.
   */
  private async markEvaluated(decoded: Decoded[], before: Map<string, StoredBefore>): Promise<void> {
    const byProfile = new Map<string, { workspaceId: string; profileId: string; evaluated: EvaluatedMark; records: number }>();
    for (const { change, record } of decoded) {
      const key = stateKey(change.workspaceId, change.profileId);
      const seen = byProfile.get(key);
      const version = Math.max(seen?.evaluated.version ?? before.get(key)?.evaluated?.version ?? 0, change.version);
      // A chunk is one partition's records in offset order.
      const evaluated = { partition: record.partition, offset: Number(record.offset), version };
      byProfile.set(key, { workspaceId: change.workspaceId, profileId: change.profileId, evaluated, records: (seen?.records ?? 0) + 1 });
    }
    const byWorkspace = groupBy(
      [...byProfile.values()].filter((p) => p.records >= 2),
      (p) => p.workspaceId,
    );
    await Promise.all([...byWorkspace].map(([workspaceId, marks]) => this.profiles.markEvaluated(workspaceId, marks)));
  }

  /**
   * An erased person's stored events go (their memberships stay, exited and without personal
   * data, so a late change cannot enter them again). Not a merge's absorbed profile: its events
   * were copied to the survivor in this chunk.
   */
  private async forgetErased(decoded: Decoded[]): Promise<void> {
    const erased = decoded.filter((d) => d.change.change === 'deleted' && d.absorbedInto === undefined);
    await Promise.all(
      [...groupBy(erased, (d) => d.change.workspaceId)].map(([workspaceId, list]) =>
        this.events.removeProfiles(
          workspaceId,
          list.map((d) => d.change.profileId),
        ),
      ),
    );
  }

  /**
   * Stores the chunk's events that some segment counts (or the predictions read), and the events
   * of absorbed profiles under their survivors; a stored messageId is not stored again.
   */
  private async recordEvents(decoded: Decoded[], moved: MovedEvent[]): Promise<void> {
    const own = decoded.flatMap((d) => {
      const event = eventOf(d);
      return event ? [{ workspaceId: d.change.workspaceId, event: { ...event, properties: JSON.stringify(event.properties) } }] : [];
    });
    const movedEvents = moved.map(({ workspaceId, profileId, event }) => ({
      workspaceId,
      event: {
        profileId,
        messageId: event.messageId,
        eventName: event.name,
        timestamp: event.timestamp,
        properties: JSON.stringify(event.properties),
      },
    }));
    await Promise.all([...own, ...movedEvents].map(({ workspaceId, event }) => this.events.record(workspaceId, event)));
  }

  /** Stores the snapshots; returns what each profile's snapshot held before, by stateKey. */
  private async saveSnapshots(decoded: Decoded[]): Promise<Map<string, StoredBefore>> {
    const byWorkspace = groupBy(decoded, (d) => d.change.workspaceId);
    const before = new Map<string, StoredBefore>();
    await Promise.all(
      [...byWorkspace].map(async ([workspaceId, list]) => {
        const stored = await this.profiles.saveAll(workspaceId, list.map(snapshotOf));
        list.forEach((d, i) => {
          const prior = stored[i];
          if (prior) before.set(stateKey(workspaceId, d.change.profileId), prior);
        });
      }),
    );
    return before;
  }

  /** The record's change checked and parsed, a rejection, or null (a tombstone: nothing to do). */
  private async decodeOne(record: InboundRecord): Promise<Decoded | Rejection | null> {
    const keyWorkspace = record.key ? workspaceOfKey(record.key.toString('utf8')) || null : null;
    // A null value is a compaction tombstone of a deleted profile; its 'deleted' change came before it.
    if (record.value === null) return null;
    let change: ProfileChange;
    try {
      change = await this.kafka.decode<ProfileChange>(record.value, record.topic);
    } catch (e) {
      if (e instanceof DecodeError) return { record, workspaceId: keyWorkspace, reason: e.code, message: e.message };
      throw e;
    }
    const { workspaceId } = change;
    const deleted = change.change === 'deleted';
    const traits = deleted ? {} : parseTraits(change.traits);
    if (traits === null) return { record, workspaceId, reason: 'invalid_traits', message: 'traits is not a JSON object' };
    const computed = deleted ? {} : parseTraits(change.computedTraits);
    if (computed === null)
      return { record, workspaceId, reason: 'invalid_computed_traits', message: 'computedTraits is not a JSON object' };
    const segments = await this.catalog.forWorkspace(workspaceId);
    const { eventName, messageId, eventTimestamp } = change;
    // Orders are kept even when no segment counts them: the predictions read them (RFM, churn, clusters).
    const kept = eventName !== null && (segments.events.has(eventName) || eventName === ORDER_EVENT);
    let properties: Record<string, unknown> | null = null;
    if (!deleted && eventName !== null && messageId !== null && eventTimestamp !== null && kept) {
      const parsed = change.eventProperties === null ? {} : parseTraits(change.eventProperties);
      if (parsed === null)
        return {
          record,
          workspaceId,
          reason: 'invalid_event_properties',
          message: 'eventProperties is not a JSON object',
        };
      // As stored: the chunk evaluates what the timer and backfill will read later.
      properties = boundedProperties(parsed);
    }
    const direct = new Set(segmentsToEvaluate(segments.ordered, change).map((s) => s.segmentId));
    return { record, change, segments, traits, computed, properties, direct };
  }

  /**
   * What the chunk's profiles' evaluations read, one read per workspace and kind, keyed by
   * workspace and profile: memberships and predictions, and the event histories the segments
   * its changes can move count (as of the chunk's start). Kept current through the chunk (see
   * evaluateOne), so a profile's later changes read nothing again. With them, the stored events of
   * the profiles a merge absorbed (of every name kept), set on the merge's record (its evaluation
   * adds them to the survivor's read) and answered as `moved`, to be stored under the survivor.
   */
  private async loadStates(decoded: Decoded[]): Promise<{ states: Map<string, ChunkState>; moved: MovedEvent[] }> {
    const byWorkspace = new Map<
      string,
      { segments: WorkspaceSegments; profileIds: Set<string>; reading: Set<string>; names: Set<string>; absorbed: Map<string, Decoded> }
    >();
    for (const d of decoded) {
      const { workspaceId, profileId } = d.change;
      const entry = byWorkspace.get(workspaceId) ?? {
        segments: d.segments,
        profileIds: new Set(),
        reading: new Set(),
        names: new Set(),
        absorbed: new Map(),
      };
      byWorkspace.set(workspaceId, entry);
      for (const absorbedId of absorbedIds(d.change)) entry.absorbed.set(absorbedId, d);
      if (d.direct.size === 0) continue;
      entry.profileIds.add(profileId);
      // A deletion (or an absorbed profile) leaves every segment whatever its events.
      const names = d.change.change === 'deleted' ? new Set<string>() : eventsReadFrom(d.segments, d.direct);
      if (names.size > 0) entry.reading.add(profileId);
      for (const name of names) entry.names.add(name);
    }
    const states = new Map<string, ChunkState>();
    const moved: MovedEvent[] = [];
    await Promise.all(
      [...byWorkspace].map(async ([workspaceId, { segments, profileIds, reading, names, absorbed }]) => {
        const [loaded, events, absorbedEvents] = await Promise.all([
          profileIds.size > 0 ? this.evaluator.loadStates(workspaceId, [...profileIds], segments) : new Map<string, never>(),
          reading.size > 0 ? this.events.forProfiles(workspaceId, [...reading], [...names]) : new Map<string, HistoryEvent[]>(),
          absorbed.size > 0
            ? this.events.forProfiles(workspaceId, [...absorbed.keys()], [...segments.events, ORDER_EVENT])
            : new Map<string, HistoryEvent[]>(),
        ]);
        for (const [profileId, state] of loaded)
          states.set(stateKey(workspaceId, profileId), { ...state, events: events.get(profileId) ?? [] });
        for (const [absorbedId, list] of absorbedEvents) {
          const merge = absorbed.get(absorbedId) as Decoded;
          // Counted from the merge on: the survivor's records before it in the chunk did not have them.
          merge.absorbedEvents = [...(merge.absorbedEvents ?? []), ...list];
          for (const event of list) moved.push({ workspaceId, profileId: merge.change.profileId, event });
        }
      }),
    );
    return { states, moved };
  }

  /** @param before what each profile's snapshot held before the chunk, by stateKey */
  private async evaluateOne(
    d: Decoded,
    states: Map<string, ChunkState>,
    before: Map<string, StoredBefore>,
    counted: Promise<void>[],
    absorbed: AbsorbedMark[],
  ): Promise<SegmentChange[]> {
    const { change, segments, traits, computed, direct, record } = d;
    const { workspaceId, profileId } = change;
    const key = stateKey(workspaceId, profileId);
    const prior = before.get(key);
    // The chunk's read of the profile's memberships and events, as of the chunk's start; each
    // change of the profile adds its event, and its evaluation its transitions, for the next one.
    const state = states.get(key);
    if (d.absorbedInto !== undefined) return this.evaluateAbsorbed(d, d.absorbedInto, prior, state, before, counted, absorbed);
    // A change of an absorbed profile was in flight when the merge came: it enters nothing, and its
    // snapshot (just saved, if newer) is marked absorbed again.
    const absorbedInto = change.change === 'deleted' ? null : (prior?.absorbedInto ?? null);
    if (absorbedInto !== null) {
      absorbed.push({ workspaceId, profileId, survivor: absorbedInto });
      // Its event is the survivor's (the profile-store folded it in): stored there, before the commit.
      const event = eventOf(d);
      if (event) {
        const moved = this.events.record(workspaceId, { ...event, profileId: absorbedInto, properties: JSON.stringify(event.properties) });
        moved.catch(() => undefined);
        counted.push(moved);
      }
    }
    const deleted = change.change === 'deleted' || absorbedInto !== null;
    const identifiers = deleted ? [] : identifiersOf(change);
    for (const event of d.absorbedEvents ?? []) if (state) addEvent(state.events, event);
    // Stored with the chunk (recordEvents); added to the chunk's read unless already there (a
    // redelivery, or one event under two versions).
    const event = eventOf(d);
    if (event && state)
      addEvent(state.events, {
        name: event.eventName,
        messageId: event.messageId,
        timestamp: event.timestamp,
        properties: event.properties,
      });
    if (direct.size === 0) return [];
    const mark = prior?.evaluated;
    const redelivered =
      mark !== undefined && mark.partition === record.partition && Number(record.offset) <= mark.offset && change.version <= mark.version;
    return this.evaluator.evaluate(
      workspaceId,
      segments,
      { profileId, version: change.version, traits, computed, deleted, identifiers },
      direct,
      // A record evaluated to the end before repeats what it caused, and no more.
      { asOf: change.changedAt, receivedAt: change.receivedAt, repeatOnly: redelivered },
      state,
      counted,
    );
  }

  /**
   * A profile a merge absorbed leaves every segment, as a deletion would, as of the merge: at its
   * latest known version (its snapshot's, or a membership's if newer) and the merge's time, so a
   * redelivered merge repeats the same exits. Its snapshot is then marked absorbed: backfill and
   * the timer skip it, and its later changes are evaluated as deletions, until a deletion of it
   * (an erasure of its survivor) ends that, since its id may then start a new profile.
   */
  private async evaluateAbsorbed(
    d: Decoded,
    survivor: string,
    prior: StoredBefore | undefined,
    state: ChunkState | undefined,
    before: Map<string, StoredBefore>,
    counted: Promise<void>[],
    absorbed: AbsorbedMark[],
  ): Promise<SegmentChange[]> {
    const { change, segments, direct } = d;
    const { workspaceId, profileId } = change;
    const memberships = [...(state?.memberships.values() ?? [])];
    const version = Math.max(prior?.version ?? 0, ...memberships.map((m) => m.lastProfileVersion));
    const changes =
      direct.size === 0
        ? []
        : await this.evaluator.evaluate(
            workspaceId,
            segments,
            { profileId, version, traits: {}, computed: {}, deleted: true, identifiers: [] },
            direct,
            { asOf: change.changedAt, receivedAt: change.receivedAt },
            state,
            counted,
          );
    absorbed.push({ workspaceId, profileId, survivor });
    // For the profile's later records in this chunk too.
    before.set(stateKey(workspaceId, profileId), { ...prior, version, deleted: true, absorbedInto: survivor });
    return changes;
  }
}

/** A change's snapshot as stored for the timer, backfill and preview. */
function snapshotOf(d: Decoded): ProfileSnapshot {
  const { change, traits, computed } = d;
  return {
    profileId: change.profileId,
    version: change.version,
    traits: JSON.stringify(traits),
    computedTraits: JSON.stringify(computed),
    deleted: change.change === 'deleted',
    // A deletion of an absorbed profile (its survivor's erasure) ends its absorption (see evaluateAbsorbed).
    ...(change.change === 'deleted' && !d.absorbedInto ? { absorbedInto: null } : {}),
    changedAt: change.changedAt,
    identifiers: identifiersOf(change),
  };
}
