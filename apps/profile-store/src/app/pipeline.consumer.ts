import { Injectable } from '@nestjs/common';
import {
  Topics,
  type DlqReason,
  type IdentityMerge,
  type IdentityRemoval,
  type ProfileChange,
  type ResolvedEvent,
  type SegmentChange,
} from '@cdp/contracts';
import {
  awaitAll,
  type ChunkContext,
  type InboundRecord,
  independentGroups,
  KafkaGateway,
  PipelineConsumer,
  type Rejection,
} from '@cdp/kafka';
import { groupBy, HealthRegistry, Metrics } from '@cdp/platform';
import { Counter } from 'prom-client';
import { erasureHash, eventErasureHashes, newestMemberships, type MembershipUpdate } from '@cdp/profile-model';
import { ComputedTraitsRepository } from './computed-traits.repository';
import { ErasuresRepository, type SuppressionSource } from './erasures.repository';
import { ProfileSegmentsRepository } from './profile-segments.repository';
import { ProfileChangePublisher } from './profile-change.publisher';
import { ProfileWriter } from './profile-writer';
import { TimelineRepository } from './timeline.repository';
import { EventOwnersRepository } from './event-owners.repository';

type Decoded<T> = { record: InboundRecord; value: T };

/** The decoded values that pass `check`; each other one is rejected with `why`. */
function checked<T extends { workspaceId: string }>(
  items: Decoded<T>[],
  check: (value: T) => boolean,
  why: { reason: DlqReason; message: string },
  rejections: Rejection[],
): Decoded<T>[] {
  return items.filter(({ record, value }) => {
    if (check(value)) return true;
    rejections.push({ record, workspaceId: value.workspaceId || null, ...why });
    return false;
  });
}

/** Per event its erasure hashes; per suppressed hash what holds it. */
type Suppressed = { hashes: Map<Decoded<ResolvedEvent>, string[]>; sources: Map<string, SuppressionSource[]> };

/** An output and the record that caused it (its trace continues on the output). */
type Traced<T> = { change: T; source: InboundRecord | undefined };

/**
 * cdp.events.resolved.v1, cdp.identity.merges.v1 and cdp.identity.removals.v1 -> profiles, timeline
 * -> cdp.profiles.changes.v1; cdp.segments.changes.v1 -> the `profile_segments` read model.
 * Per chunk: profile writes (CAS), then the changes (acked), then the timeline, which marks
 * events as fully processed. A crash anywhere replays only what is missing.
 */
@Injectable()
export class ProfilePipelineConsumer extends PipelineConsumer {
  private readonly suppressedEvents: Counter<'reason'>;

  constructor(
    kafka: KafkaGateway,
    metrics: Metrics,
    health: HealthRegistry,
    private readonly writer: ProfileWriter,
    private readonly timeline: TimelineRepository,
    private readonly segments: ProfileSegmentsRepository,
    private readonly erasures: ErasuresRepository,
    private readonly definitions: ComputedTraitsRepository,
    private readonly owners: EventOwnersRepository,
    private readonly publisher: ProfileChangePublisher,
  ) {
    // One consumer group for all four topics (the base class names the group after the service).
    super(
      kafka,
      metrics,
      health,
      [Topics.resolvedEvents, Topics.identityMerges, Topics.identityRemovals, Topics.segmentChanges],
      'profile-store',
    );
    this.suppressedEvents = new Counter({
      name: 'cdp_profile_events_suppressed_total',
      help: 'Resolved events dropped because their profile id or an identifier is suppressed, by reason (erasure, regulation).',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
  }

  protected async prepare(): Promise<void> {
    await this.publisher.prepare();
  }

  protected async handle(records: InboundRecord[], context: ChunkContext): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    const decoded: Decoded<ResolvedEvent | IdentityMerge | IdentityRemoval | SegmentChange>[] = [];
    for (const record of records) {
      const result = await this.decode<ResolvedEvent | IdentityMerge | IdentityRemoval | SegmentChange>(record);
      if ('reason' in result) rejections.push(result);
      else decoded.push(result);
    }
    if (context.topic === this.kafka.topic(Topics.identityMerges)) {
      await this.handleMerges(decoded as Decoded<IdentityMerge>[], rejections);
    } else if (context.topic === this.kafka.topic(Topics.identityRemovals)) {
      await this.handleRemovals(decoded as Decoded<IdentityRemoval>[], rejections);
    } else if (context.topic === this.kafka.topic(Topics.segmentChanges)) {
      await this.handleSegmentChanges(decoded as Decoded<SegmentChange>[], rejections);
    } else {
      await this.handleEvents(decoded as Decoded<ResolvedEvent>[], rejections);
    }
    return rejections;
  }

  private async handleEvents(events: Decoded<ResolvedEvent>[], rejections: Rejection[]): Promise<void> {
    const valid = checked(
      events,
      (e) => !!(e.workspaceId && e.profileId && e.messageId),
      { reason: 'missing_ids', message: 'resolved event needs workspaceId, profileId and messageId' },
      rejections,
    );
    const byWorkspace = groupBy(valid, (e) => e.value.workspaceId);
    for (const [workspaceId, wsEvents] of byWorkspace) {
      // An event goes to the profile that claimed it first, whatever profile id this copy names;
      // claims are taken before the timeline is read, so a copy that finds no claim and no timeline
      // entry is the first (see EventOwnersRepository). The suppressions do not depend on either:
      // read beside them, one round trip less on the chunk's path.
      const [{ owner, done }, suppressed] = await awaitAll([
        this.claimAndRead(workspaceId, wsEvents),
        this.suppressedOf(workspaceId, wsEvents),
      ] as const);
      // Events already in the timeline were fully processed (profile, change and timeline written).
      // Checked before suppression: a redelivered copy of an event applied before its person was
      // suppressed is done, not dropped a second time (and not counted as suppressed).
      const live = this.withoutErased(
        workspaceId,
        wsEvents.filter((e) => !done.has(e.value.messageId)),
        suppressed,
      );
      const owned = live.map((e) => ({ ...e, value: { ...e.value, profileId: owner.get(e.value.messageId) ?? e.value.profileId } }));
      const batches = [...groupBy(owned, (e) => e.value.profileId)].map(([profileId, list]) => ({
        profileId,
        events: dedupe(list.map((e) => e.value)),
      }));
      const defs = batches.length > 0 ? await this.definitions.cached(workspaceId) : [];
      const results = await this.writer.applyChunk(workspaceId, batches, defs);
      // A change continues the trace of the event it names.
      const sourceOf = new Map(owned.map((e) => [e.value.messageId, e.record]));
      await this.emit(
        results
          .flatMap((r) => r.changes)
          .map((change) => ({ change, source: change.messageId ? sourceOf.get(change.messageId) : undefined })),
      );
      await this.timeline.record(
        workspaceId,
        results.flatMap((r, i) => (batches[i]?.events ?? []).map((event) => ({ profileId: r.profileId, event }))),
      );
      // Only once the timeline has them: a later copy then stops at the timeline (dropped events: nothing to wait for).
      await this.owners.release(
        workspaceId,
        wsEvents.map((e) => e.value.messageId),
      );
    }
  }

  /** The claims of the events, then which of them the timeline already holds. */
  private async claimAndRead(workspaceId: string, events: Decoded<ResolvedEvent>[]) {
    const owner = await this.owners.claim(
      workspaceId,
      events.map((e) => ({ messageId: e.value.messageId, profileId: e.value.profileId })),
    );
    const done = await this.timeline.recorded(
      workspaceId,
      events.map((e) => e.value.messageId),
    );
    return { owner, done };
  }

  /** The erasure hashes of each event and which of them are suppressed now. */
  private async suppressedOf(workspaceId: string, events: Decoded<ResolvedEvent>[]): Promise<Suppressed> {
    const hashes = events.map((e) => eventErasureHashes(workspaceId, e.value));
    const sources = await this.erasures.suppressed(workspaceId, hashes.flat(), Date.now());
    return { hashes: new Map(events.map((e, i) => [e, hashes[i] ?? []])), sources };
  }

  /**
   * Drops events of erased or suppressed profile ids and identifiers, so a late event does not
   * bring an erased person back and a suppress regulation holds. Nothing of them is kept, not even
   * in the DLQ; only the count (by reason) is.
   */
  private withoutErased(workspaceId: string, events: Decoded<ResolvedEvent>[], suppressed: Suppressed): Decoded<ResolvedEvent>[] {
    if (suppressed.sources.size === 0) return events;
    const kept: Decoded<ResolvedEvent>[] = [];
    // Two copies of one event in a chunk are one suppressed event.
    const counted = new Set<string>();
    for (const e of events) {
      const sources = (suppressed.hashes.get(e) ?? []).flatMap((h) => suppressed.sources.get(h) ?? []);
      if (sources.length === 0) kept.push(e);
      else if (!counted.has(e.value.messageId)) {
        counted.add(e.value.messageId);
        this.suppressedEvents.inc({ reason: sources.includes('regulation') ? 'regulation' : 'erasure' });
      }
    }
    if (kept.length < events.length)
      this.logger.log(`dropped ${events.length - kept.length} events of erased or suppressed people in workspace ${workspaceId}`);
    return kept;
  }

  private async handleSegmentChanges(changes: Decoded<SegmentChange>[], rejections: Rejection[]): Promise<void> {
    const byWorkspace = new Map<string, MembershipUpdate[]>();
    const valid = checked(
      changes,
      (c) => !!(c.workspaceId && c.profileId && c.segmentId),
      { reason: 'invalid_segment_change', message: 'segment change needs workspaceId, profileId and segmentId' },
      rejections,
    );
    for (const { value: c } of valid) {
      const update: MembershipUpdate = {
        profileId: c.profileId,
        segmentId: c.segmentId,
        segmentName: c.segmentName,
        member: c.change === 'entered',
        membershipVersion: c.membershipVersion,
        occurredAt: c.occurredAt,
      };
      const list = byWorkspace.get(c.workspaceId);
      if (list) list.push(update);
      else byWorkspace.set(c.workspaceId, [update]);
    }
    for (const [workspaceId, updates] of byWorkspace) {
      // The segmenter's exits after an erasure must not leave documents of the erased profile behind.
      const hashOf = (u: MembershipUpdate) => erasureHash(workspaceId, { kind: 'profile', profileId: u.profileId });
      const erased = await this.erasures.suppressed(workspaceId, updates.map(hashOf), Date.now());
      await this.segments.apply(workspaceId, newestMemberships(updates.filter((u) => !erased.has(hashOf(u)))));
    }
  }

  private async handleMerges(merges: Decoded<IdentityMerge>[], rejections: Rejection[]): Promise<void> {
    const valid = checked(
      merges,
      (m) => !!(m.workspaceId && m.fromProfileId && m.intoProfileId && m.fromProfileId !== m.intoProfileId),
      { reason: 'invalid_merge', message: 'merge needs workspaceId and two different profile ids' },
      rejections,
    );
    // Merges that share no profile are folded together, wave by wave: wave k takes the k-th merge
    // of every group (groups share no profile; within one, chunk order, as a later merge may build
    // on an earlier one). Profiles met only through stored redirects are shared safely by the
    // writer's compare-and-set.
    const profilesOf = ({ value }: Decoded<IdentityMerge>) =>
      [value.fromProfileId, value.intoProfileId].map((id) => `${value.workspaceId}\u0000${id}`);
    const groups = independentGroups(valid.map(profilesOf));
    const changes = new Array<Traced<ProfileChange> | null>(valid.length).fill(null);
    for (let k = 0; ; k++) {
      const wave = groups.flatMap((group) => group[k] ?? []);
      if (wave.length === 0) break;
      const byWorkspace = groupBy(wave, (i) => (valid[i] as Decoded<IdentityMerge>).value.workspaceId);
      await awaitAll(
        [...byWorkspace].map(async ([ws, indexes]) => {
          const folded = indexes.map((i) => valid[i] as Decoded<IdentityMerge>);
          const answers = await this.writer.mergeMany(
            ws,
            folded.map((d) => d.value),
            await this.definitions.cached(ws),
          );
          answers.forEach((change, j) => {
            if (change) changes[indexes[j] as number] = { change, source: folded[j]?.record };
          });
        }),
      );
    }
    await this.emit(changes.filter((c): c is Traced<ProfileChange> => c !== null));
  }

  /**
   * Identifiers taken off their person by the identity-resolver's API: rare, so one at a time, in
   * order. Not for an erased person: a removal arriving while the eraser runs must not write the
   * profile again (an `updated` change after its tombstone would bring the person back).
   */
  private async handleRemovals(removals: Decoded<IdentityRemoval>[], rejections: Rejection[]): Promise<void> {
    const valid = checked(
      removals,
      (r) => !!(r.workspaceId && r.profileId && r.identifier.type && r.identifier.value),
      { reason: 'invalid_removal', message: 'identifier removal needs workspaceId, profileId and the identifier' },
      rejections,
    );
    const changes: Traced<ProfileChange>[] = [];
    for (const { record, value } of valid) {
      const { workspaceId } = value;
      const hashes = [value.profileId, value.attachedTo ?? value.profileId].map((profileId) =>
        erasureHash(workspaceId, { kind: 'profile', profileId }),
      );
      if ((await this.erasures.suppressed(workspaceId, hashes, Date.now())).size > 0) continue;
      const applied = await this.writer.removeIdentifier(value, await this.definitions.cached(workspaceId));
      changes.push(...applied.map((change) => ({ change, source: record })));
    }
    await this.emit(changes);
  }

  private emit(changes: Traced<ProfileChange>[]): Promise<void> {
    return this.publisher.publish(
      changes.map(({ change, source }) => ({ change, headers: source ? this.traceHeaders(source) : undefined })),
    );
  }

  private async decode<T>(record: InboundRecord): Promise<Decoded<T> | Rejection> {
    const decoded = await this.decodeRecord<T>(record);
    return decoded.ok ? { record, value: decoded.value } : decoded.rejection;
  }
}

/** The same messageId twice in one chunk is applied once. */
const dedupe = (events: ResolvedEvent[]): ResolvedEvent[] => [...new Map(events.map((e) => [e.messageId, e])).values()];
