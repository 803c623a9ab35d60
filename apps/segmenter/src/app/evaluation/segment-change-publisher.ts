import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type SegmentChange } from '@cdp/contracts';
import { KafkaGateway, type KafkaHeaders, type TopicCodec } from '@cdp/kafka';

/** A change and the trace headers of the record that caused it (none for the timer and backfill: they start traces). */
export interface OutgoingChange {
  change: SegmentChange;
  headers?: KafkaHeaders;
}

/** Produces SegmentChange records (acks=all, awaited) for the consumer, the timer and backfill alike. */
@Injectable()
export class SegmentChangePublisher {
  private codec: Promise<TopicCodec<SegmentChange>> | undefined;

  constructor(private readonly kafka: KafkaGateway) {}

  /** Registers the schema (once); a failure is retried on the next call. */
  ready(): Promise<TopicCodec<SegmentChange>> {
    if (!this.codec) {
      this.codec = this.kafka.codec(Topics.segmentChanges);
      this.codec.catch(() => (this.codec = undefined));
    }
    return this.codec;
  }

  publish(changes: readonly SegmentChange[]): Promise<void> {
    return this.publishTraced(changes.map((change) => ({ change })));
  }

  async publishTraced(outgoing: readonly OutgoingChange[]): Promise<void> {
    if (outgoing.length === 0) return;
    const codec = await this.ready();
    const records = await Promise.all(
      outgoing.map(async ({ change, headers }) => ({
        topic: codec.topic,
        key: recordKey(change.workspaceId, change.profileId),
        value: await codec.encode(change),
        headers,
      })),
    );
    await this.kafka.producer.send(records);
  }
}
