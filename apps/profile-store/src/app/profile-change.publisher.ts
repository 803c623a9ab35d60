import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type ProfileChange } from '@cdp/contracts';
import { KafkaGateway, type KafkaHeaders, type TopicCodec } from '@cdp/kafka';

/** A profile change to produce and the trace headers it continues, if any. */
export interface OutgoingChange {
  change: ProfileChange;
  headers?: KafkaHeaders;
}

/** Where profile changes go; resolves once Kafka acknowledged them. */
export interface ChangeSink {
  publish(changes: readonly OutgoingChange[]): Promise<void>;
}

/** Produces to cdp.profiles.changes.v1, keyed by workspace and profile so that one profile's changes stay in order. */
@Injectable()
export class ProfileChangePublisher implements ChangeSink {
  private codec: Promise<TopicCodec<ProfileChange>> | undefined;

  constructor(private readonly kafka: KafkaGateway) {}

  /** Registers the topic's schema (once; again after a failure), so that a start-up can fail early. */
  prepare(): Promise<TopicCodec<ProfileChange>> {
    if (!this.codec) {
      this.codec = this.kafka.codec(Topics.profileChanges);
      this.codec.catch(() => (this.codec = undefined));
    }
    return this.codec;
  }

  async publish(changes: readonly OutgoingChange[]): Promise<void> {
    if (changes.length === 0) return;
    const codec = await this.prepare();
    const records = await Promise.all(
      changes.map(async ({ change, headers }) => ({
        topic: codec.topic,
        key: recordKey(change.workspaceId, change.profileId),
        value: await codec.encode(change),
        headers,
      })),
    );
    await this.kafka.producer.send(records);
  }
}
