import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type SegmentChange } from '@cdp/contracts';
import { KafkaGateway, type TopicCodec } from '@cdp/kafka';

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

  async publish(changes: readonly SegmentChange[]): Promise<void> {
    if (changes.length === 0) return;
    const codec = await this.ready();
    const records = await Promise.all(
      changes.map(async (c) => ({ topic: codec.topic, key: recordKey(c.workspaceId, c.profileId), value: await codec.encode(c) })),
    );
    await this.kafka.producer.send(records);
  }
}
