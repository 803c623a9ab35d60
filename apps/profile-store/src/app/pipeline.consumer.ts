import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type IdentityMerge, type ProfileChange, type ResolvedEvent, type SegmentChange } from '@cdp/contracts';
import { KafkaGateway, PipelineConsumer, type ChunkContext, type InboundRecord, type Rejection, type TopicCodec } from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { erasureHash, eventErasureHashes, newestMemberships, type MembershipUpdate } from '@cdp/profile-model';
import { ErasuresRepository } from './erasures.repository';
import { ProfileSegmentsRepository } from './profile-segments.repository';
import { ProfileWriter } from './profile-writer';
import { TimelineRepository } from './timeline.repository';

type Decoded<T> = { record: InboundRecord; value: T };

/**
 * cdp.events.resolved.v1 and cdp.identity.merges.v1 -> profiles, timeline -> cdp.profiles.changes.v1;
 * cdp.segments.changes.v1 -> the `profile_segments` read model.
 * Per chunk: profile writes (CAS), then the changes (acked), then the timeline, which marks
 * events as fully processed. A crash anywhere replays only what is missing.
 */
@Injectable()
export class ProfilePipelineConsumer extends PipelineConsumer {
  private changes!: TopicCodec<ProfileChange>;

  constructor(
    kafka: KafkaGateway,
    metrics: Metrics,
    health: HealthRegistry,
    private readonly writer: ProfileWriter,
    private readonly timeline: TimelineRepository,
    private readonly segments: ProfileSegmentsRepository,
    private readonly erasures: ErasuresRepository,
  ) {
    // One consumer group for all three topics (the base class names the group after the service).
    super(kafka, metrics, health, [Topics.resolvedEvents, Topics.identityMerges, Topics.segmentChanges], 'profile-store');
  }

  protected async prepare(): Promise<void> {
    this.changes = await this.kafka.codec(Topics.profileChanges);
  }

  protected async handle(records: InboundRecord[], context: ChunkContext): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    const decoded: Decoded<ResolvedEvent | IdentityMerge | SegmentChange>[] = [];
    for (const record of records) {
      const result = await this.decode<ResolvedEvent | IdentityMerge | SegmentChange>(record);
      if ('reason' in result) rejections.push(result);
      else decoded.push(result);
    }
    if (context.topic === this.kafka.topic(Topics.identityMerges)) {
      await this.handleMerges(decoded as Decoded<IdentityMerge>[], rejections);
    } else if (context.topic === this.kafka.topic(Topics.segmentChanges)) {
      await this.handleSegmentChanges(decoded as Decoded<SegmentChange>[], rejections);
    } else {
      await this.handleEvents(decoded as Decoded<ResolvedEvent>[], rejections);
    }
    return rejections;
  }

  private async handleEvents(events: Decoded<ResolvedEvent>[], rejections: Rejection[]): Promise<void> {
    const valid = events.filter(({ record, value }) => {
      if (value.workspaceId && value.profileId && value.messageId) return true;
      rejections.push({
        record,
        workspaceId: value.workspaceId || null,
        reason: 'missing_ids',
        message: 'resolved event needs workspaceId, profileId and messageId',
      });
      return false;
    });
    const byWorkspace = groupBy(valid, (e) => e.value.workspaceId);
    for (const [workspaceId, wsEvents] of byWorkspace) {
      // Events already in the timeline were fully processed (profile, change and timeline written).
      const done = await this.timeline.recorded(
        workspaceId,
        wsEvents.map((e) => e.value.messageId),
      );
      const pending = await this.withoutErased(
        workspaceId,
        wsEvents.filter((e) => !done.has(e.value.messageId)),
      );
      const batches = [...groupBy(pending, (e) => e.value.profileId)].map(([profileId, list]) => ({
        profileId,
        events: dedupe(list.map((e) => e.value)),
      }));
      const results = await Promise.all(batches.map((b) => this.writer.applyEvents(workspaceId, b.profileId, b.events)));
      await this.emit(results.flatMap((r) => r.changes));
      await this.timeline.record(
        workspaceId,
        results.flatMap((r, i) => (batches[i]?.events ?? []).map((event) => ({ profileId: r.profileId, event }))),
      );
    }
  }

  /**
   * Drops events of erased profile ids and identifiers (within the suppression window), so a late
   * event does not bring an erased person back. Nothing of them is kept, not even in the DLQ.
   */
  private async withoutErased(workspaceId: string, events: Decoded<ResolvedEvent>[]): Promise<Decoded<ResolvedEvent>[]> {
    if (events.length === 0) return events;
    const hashes = events.map((e) => eventErasureHashes(workspaceId, e.value));
    const erased = await this.erasures.suppressed(workspaceId, hashes.flat(), Date.now());
    if (erased.size === 0) return events;
    const kept = events.filter((_, i) => !(hashes[i] ?? []).some((h) => erased.has(h)));
    this.logger.log(`dropped ${events.length - kept.length} events of erased profiles in workspace ${workspaceId}`);
    return kept;
  }

  private async handleSegmentChanges(changes: Decoded<SegmentChange>[], rejections: Rejection[]): Promise<void> {
    const byWorkspace = new Map<string, MembershipUpdate[]>();
    for (const { record, value: c } of changes) {
      if (!c.workspaceId || !c.profileId || !c.segmentId) {
        rejections.push({
          record,
          workspaceId: c.workspaceId || null,
          reason: 'invalid_segment_change',
          message: 'segment change needs workspaceId, profileId and segmentId',
        });
        continue;
      }
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
    const changes: ProfileChange[] = [];
    // In order: a later merge may build on an earlier one of the same chunk.
    for (const { record, value } of merges) {
      if (!value.workspaceId || !value.fromProfileId || !value.intoProfileId || value.fromProfileId === value.intoProfileId) {
        rejections.push({
          record,
          workspaceId: value.workspaceId || null,
          reason: 'invalid_merge',
          message: 'merge needs workspaceId and two different profile ids',
        });
        continue;
      }
      const change = await this.writer.merge(value);
      if (change) changes.push(change);
    }
    await this.emit(changes);
  }

  private async emit(changes: ProfileChange[]): Promise<void> {
    if (changes.length === 0) return;
    const records = await Promise.all(
      changes.map(async (c) => ({
        topic: this.changes.topic,
        key: recordKey(c.workspaceId, c.profileId),
        value: await this.changes.encode(c),
      })),
    );
    await this.kafka.producer.send(records);
  }

  private async decode<T>(record: InboundRecord): Promise<Decoded<T> | Rejection> {
    const decoded = await this.decodeRecord<T>(record);
    return decoded.ok ? { record, value: decoded.value } : decoded.rejection;
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The same messageId twice in one chunk is applied once. */
const dedupe = (events: ResolvedEvent[]): ResolvedEvent[] => [...new Map(events.map((e) => [e.messageId, e])).values()];
