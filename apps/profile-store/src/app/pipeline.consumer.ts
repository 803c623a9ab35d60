import { Injectable } from '@nestjs/common';
import { recordKey, Topics, workspaceOfKey, type IdentityMerge, type ProfileChange, type ResolvedEvent } from '@cdp/contracts';
import {
  DecodeError,
  KafkaGateway,
  PipelineConsumer,
  type ChunkContext,
  type InboundRecord,
  type Rejection,
  type TopicCodec,
} from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { ProfileWriter } from './profile-writer';
import { TimelineRepository } from './timeline.repository';

type Decoded<T> = { record: InboundRecord; value: T };

/**
 * cdp.events.resolved.v1 and cdp.identity.merges.v1 -> profiles, timeline -> cdp.profiles.changes.v1.
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
  ) {
    super(kafka, metrics, health, [Topics.resolvedEvents, Topics.identityMerges], 'profile-store');
  }

  protected async prepare(): Promise<void> {
    this.changes = await this.kafka.codec(Topics.profileChanges);
  }

  protected async handle(records: InboundRecord[], context: ChunkContext): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    const decoded: Decoded<ResolvedEvent | IdentityMerge>[] = [];
    for (const record of records) {
      const result = await this.decode<ResolvedEvent | IdentityMerge>(record);
      if ('reason' in result) rejections.push(result);
      else decoded.push(result);
    }
    if (context.topic === this.kafka.topic(Topics.identityMerges)) {
      await this.handleMerges(decoded as Decoded<IdentityMerge>[], rejections);
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
      const pending = wsEvents.filter((e) => !done.has(e.value.messageId));
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
    try {
      return { record, value: await this.kafka.decode<T>(record.value) };
    } catch (e) {
      if (e instanceof DecodeError) {
        return {
          record,
          workspaceId: record.key ? workspaceOfKey(record.key.toString('utf8')) || null : null,
          reason: e.code,
          message: e.message,
        };
      }
      throw e;
    }
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
