import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type SegmentChange } from '@cdp/contracts';
import { KafkaGateway, type KafkaHeaders, type OutboundRecord, type TopicCodec } from '@cdp/kafka';
import { SegmentTopics } from '../output/segment-topics';
import { SegmentCatalog } from '../segments/segment-catalog';

/** A change and the trace headers of the record that caused it (none for the timer and backfill: they start traces). */
export interface OutgoingChange {
  change: SegmentChange;
  headers?: KafkaHeaders;
}

/**
 * Produces SegmentChange records (acks=all, awaited) for the consumer, the timer and backfill
 * alike, on cdp.segments.changes.v1 and, for a segment that names one, also on its outputTopic
 * (same key and value; the segment's definition as this instance's catalog has it).
 */
@Injectable()
export class SegmentChangePublisher {
  private codec: Promise<TopicCodec<SegmentChange>> | undefined;

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly catalog: SegmentCatalog,
    private readonly topics: SegmentTopics,
  ) {}

  /** Registers the schema (once); a failure is retried on the next call. */
  ready(): Promise<TopicCodec<SegmentChange>> {
    if (!this.codec) {
      this.codec = this.kafka.codec(Topics.segmentChanges);
      this.codec.catch(() => (this.codec = undefined));
    }
    return this.codec;
  }

  /** `outputTopic`: the segment's own topic when the catalog no longer has it (a deleted segment's exits). */
  publish(changes: readonly SegmentChange[], outputTopic?: string | null): Promise<void> {
    return this.publishTraced(
      changes.map((change) => ({ change })),
      outputTopic,
    );
  }

  async publishTraced(outgoing: readonly OutgoingChange[], outputTopicOverride?: string | null): Promise<void> {
    if (outgoing.length === 0) return;
    const codec = await this.ready();
    const records = await Promise.all(
      outgoing.map(async ({ change, headers }): Promise<OutboundRecord[]> => {
        const key = recordKey(change.workspaceId, change.profileId);
        const value = await codec.encode(change);
        const record = { topic: codec.topic, key, value, headers };
        const outputTopic =
          outputTopicOverride !== undefined
            ? outputTopicOverride
            : (await this.catalog.forWorkspace(change.workspaceId)).byId.get(change.segmentId)?.outputTopic;
        // The same bytes: the per-segment topic has the same value schema (registered under its own subject, same id).
        if (!outputTopic) return [record];
        const own = await this.topics.codec(outputTopic);
        return [record, { topic: own.topic, key, value: await own.encode(change), headers }];
      }),
    );
    await this.kafka.producer.send(records.flat());
  }
}
