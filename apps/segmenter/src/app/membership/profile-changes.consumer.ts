import { Injectable } from '@nestjs/common';
import { recordKey, Topics, workspaceOfKey, type ProfileChange, type SegmentChange } from '@cdp/contracts';
import {
  DecodeError,
  KafkaGateway,
  PipelineConsumer,
  type InboundRecord,
  type OutboundRecord,
  type Rejection,
  type TopicCodec,
} from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { SegmentCatalog, type CompiledSegment } from '../segments/segment-catalog';
import { MembershipsRepository } from './memberships.repository';
import { decide, parseTraits, segmentsToEvaluate, toSegmentChange, type Transition } from './transition';

/** Compare-and-set attempts per membership before the chunk fails and is redelivered. */
const MAX_CAS_ATTEMPTS = 5;

/**
 * cdp.profiles.changes.v1 -> segment evaluation -> cdp.segments.changes.v1.
 * Memberships are written before the records are produced and the produce is awaited before the
 * offsets are committed; a redelivered change re-emits the transition it caused (see README).
 */
@Injectable()
export class ProfileChangesConsumer extends PipelineConsumer {
  private out!: TopicCodec<SegmentChange>;

  constructor(
    kafka: KafkaGateway,
    metrics: Metrics,
    health: HealthRegistry,
    private readonly catalog: SegmentCatalog,
    private readonly memberships: MembershipsRepository,
  ) {
    super(kafka, metrics, health, [Topics.profileChanges], 'segmenter');
  }

  protected async prepare(): Promise<void> {
    this.out = await this.kafka.codec(Topics.segmentChanges);
  }

  protected async handle(records: InboundRecord[]): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    // Changes of one profile in order, different profiles concurrently (records share a key per profile).
    const byKey = new Map<string, InboundRecord[]>();
    for (const r of records) {
      const key = r.key?.toString('utf8') ?? '';
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    const outputs = await Promise.all(
      [...byKey.values()].map(async (group) => {
        const changes: SegmentChange[] = [];
        for (const record of group) {
          const result = await this.handleOne(record);
          if ('reason' in result) rejections.push(result);
          else changes.push(...result);
        }
        return changes;
      }),
    );
    const outbound: OutboundRecord[] = await Promise.all(
      outputs
        .flat()
        .map(async (c) => ({ topic: this.out.topic, key: recordKey(c.workspaceId, c.profileId), value: await this.out.encode(c) })),
    );
    await this.kafka.producer.send(outbound);
    return rejections;
  }

  private async handleOne(record: InboundRecord): Promise<SegmentChange[] | Rejection> {
    const keyWorkspace = record.key ? workspaceOfKey(record.key.toString('utf8')) || null : null;
    // A null value is a compaction tombstone of a deleted profile; its 'deleted' change came before it.
    if (record.value === null) return [];
    let change: ProfileChange;
    try {
      change = await this.kafka.decode<ProfileChange>(record.value);
    } catch (e) {
      if (e instanceof DecodeError) return { record, workspaceId: keyWorkspace, reason: e.code, message: e.message };
      throw e;
    }
    const traits = change.change === 'deleted' ? {} : parseTraits(change.traits);
    if (traits === null)
      return { record, workspaceId: change.workspaceId, reason: 'invalid_traits', message: 'traits is not a JSON object' };
    const segments = segmentsToEvaluate(await this.catalog.forWorkspace(change.workspaceId), change);
    if (segments.length === 0) return [];
    const stored = await this.memberships.forProfile(
      change.workspaceId,
      change.profileId,
      segments.map((s) => s.segmentId),
    );
    const emitted: SegmentChange[] = [];
    for (const segment of segments) {
      // A deleted profile leaves every segment, whatever its definition says about empty traits.
      const isMember = change.change !== 'deleted' && segment.compiled.matches({ traits });
      const transition = await this.settle(change, segment, isMember, stored.get(segment.segmentId) ?? null);
      if (transition) {
        emitted.push(
          toSegmentChange(
            { workspaceId: change.workspaceId, segmentId: segment.segmentId, segmentName: segment.name, profileId: change.profileId },
            transition,
          ),
        );
      }
    }
    return emitted;
  }

  /** Decides and stores one membership (compare-and-set, re-reading on conflict); the transition to emit, if any. */
  private async settle(
    change: ProfileChange,
    segment: CompiledSegment,
    isMember: boolean,
    initial: Parameters<typeof decide>[0],
  ): Promise<Transition | null> {
    let stored = initial;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const decision = decide(stored, { isMember, profileVersion: change.version, receivedAt: change.receivedAt, now: Date.now() });
      if (decision.kind === 'none') return null;
      if (decision.kind === 'reemit') return decision.transition;
      const { workspaceId, profileId } = change;
      if (
        await this.memberships.applyTransition(workspaceId, segment.segmentId, profileId, decision.expectedVersion, decision.transition)
      ) {
        return decision.transition;
      }
      stored = (await this.memberships.forProfile(workspaceId, profileId, [segment.segmentId])).get(segment.segmentId) ?? null;
    }
    throw new Error(`membership ${segment.segmentId}/${change.profileId} kept changing under compare-and-set`);
  }
}
