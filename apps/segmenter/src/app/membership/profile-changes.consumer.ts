import { Injectable } from '@nestjs/common';
import { Topics, workspaceOfKey, type ProfileChange, type SegmentChange } from '@cdp/contracts';
import { DecodeError, KafkaGateway, PipelineConsumer, type InboundRecord, type Rejection } from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { SegmentChangePublisher, type OutgoingChange } from '../evaluation/segment-change-publisher';
import { MembershipEvaluator } from '../evaluation/membership-evaluator';
import { SegmentEventsRepository } from '../history/segment-events.repository';
import { SegmentProfilesRepository } from '../history/segment-profiles.repository';
import { ORDER_EVENT } from '../predictions/order-histories';
import { SegmentCatalog } from '../segments/segment-catalog';
import { parseTraits, segmentsToEvaluate } from './transition';

/**
 * cdp.profiles.changes.v1 -> segment evaluation -> cdp.segments.changes.v1.
 * Per change: the snapshot (traits and computed traits) and (if a segment counts it) the event
 * are stored, then the memberships are evaluated and written, the records produced, and only
 * then the offsets committed; a redelivered change re-emits the transition it caused (see README).
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
  ) {
    super(kafka, metrics, health, [Topics.profileChanges], 'segmenter');
  }

  protected async prepare(): Promise<void> {
    await this.publisher.ready();
  }

  protected async handle(records: InboundRecord[]): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    // Changes of one profile in order, different profiles concurrently (records share a key per profile).
    const byKey = new Map<string, InboundRecord[]>();
    for (const r of records) {
      const key = r.key?.toString('utf8') ?? '';
      const group = byKey.get(key);
      if (group) group.push(r);
      else byKey.set(key, [r]);
    }
    // Size counter writes of the chunk's transitions: stored before the commit, not before the produce.
    const counted: Promise<void>[] = [];
    const outputs = await Promise.all(
      [...byKey.values()].map(async (group) => {
        const changes: OutgoingChange[] = [];
        for (const record of group) {
          const result = await this.handleOne(record, counted);
          if ('reason' in result) rejections.push(result);
          else if (result.length > 0) {
            const headers = this.traceHeaders(record);
            changes.push(...result.map((change) => ({ change, headers })));
          }
        }
        return changes;
      }),
    );
    await Promise.all([this.publisher.publishTraced(outputs.flat()), ...counted]);
    return rejections;
  }

  private async handleOne(record: InboundRecord, counted: Promise<void>[]): Promise<SegmentChange[] | Rejection> {
    const keyWorkspace = record.key ? workspaceOfKey(record.key.toString('utf8')) || null : null;
    // A null value is a compaction tombstone of a deleted profile; its 'deleted' change came before it.
    if (record.value === null) return [];
    let change: ProfileChange;
    try {
      change = await this.kafka.decode<ProfileChange>(record.value, record.topic);
    } catch (e) {
      if (e instanceof DecodeError) return { record, workspaceId: keyWorkspace, reason: e.code, message: e.message };
      throw e;
    }
    const { workspaceId, profileId } = change;
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
      properties = change.eventProperties === null ? {} : parseTraits(change.eventProperties);
      if (properties === null)
        return { record, workspaceId, reason: 'invalid_event_properties', message: 'eventProperties is not a JSON object' };
    }
    // An erased person's identifiers are not kept, nor sent out with its exits.
    const identifiers = deleted ? [] : change.identifiers.map(({ type, value }) => ({ type, value }));
    // The snapshot is for the timer, backfill and preview; this evaluation reads the change itself,
    // so the two writes go out together (both are stored before the chunk is committed).
    const [, changes] = await Promise.all([
      this.profiles.save(workspaceId, {
        profileId,
        version: change.version,
        traits: JSON.stringify(traits),
        computedTraits: JSON.stringify(computed),
        deleted,
        changedAt: change.changedAt,
        identifiers,
      }),
      (async (): Promise<SegmentChange[]> => {
        // The event is stored before the evaluation reads the history it counts in.
        if (properties !== null && eventName !== null && messageId !== null && eventTimestamp !== null)
          await this.events.record(workspaceId, {
            profileId,
            messageId,
            eventName,
            timestamp: eventTimestamp,
            properties: JSON.stringify(properties),
          });
        const direct = segmentsToEvaluate(segments.ordered, change);
        if (direct.length === 0) return [];
        return this.evaluator.evaluate(
          workspaceId,
          segments,
          { profileId, version: change.version, traits, computed, deleted, identifiers },
          new Set(direct.map((s) => s.segmentId)),
          { asOf: change.changedAt, receivedAt: change.receivedAt },
          undefined,
          counted,
        );
      })(),
    ]);
    return changes;
  }
}
