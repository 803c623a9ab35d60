import { Injectable } from '@nestjs/common';
import { ALL_TOPICS, Topics, type SegmentChange } from '@cdp/contracts';
import { AvroSerde, KafkaGateway, type TopicCodec } from '@cdp/kafka';
import { SegmenterConfig } from '../segmenter.config';

/** A per-segment topic name as a definition gives it (the deployed name adds CDP_TOPIC_NAMESPACE). */
export const OUTPUT_TOPIC = /^[A-Za-z0-9._-]{1,200}$/;

/** Why an outputTopic cannot be used, or null: a platform topic is never written by a segment. */
export function outputTopicProblem(name: string): string | null {
  if (!OUTPUT_TOPIC.test(name)) return 'outputTopic may only contain letters, digits, ".", "_" and "-" (1 to 200 characters)';
  if (ALL_TOPICS.some((t) => t.name === name)) return `outputTopic ${name} is a platform topic`;
  return null;
}

/**
 * Per-segment output topics: created (with the SegmentChange schema registered for them) when a
 * segment naming one is saved, and the codec each change is also produced with.
 */
@Injectable()
export class SegmentTopics {
  private readonly serde: AvroSerde;
  private readonly codecs = new Map<string, Promise<TopicCodec<SegmentChange>>>();

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly config: SegmenterConfig,
  ) {
    // The gateway's serde only knows catalog topic names; this one registers the same schema under another topic.
    this.serde = AvroSerde.connect(
      config.SCHEMA_REGISTRY_URL,
      config.SCHEMA_REGISTRY_USERNAME
        ? { username: config.SCHEMA_REGISTRY_USERNAME, password: config.SCHEMA_REGISTRY_PASSWORD ?? '' }
        : undefined,
    );
  }

  deployed(outputTopic: string): string {
    return `${this.config.CDP_TOPIC_NAMESPACE}${outputTopic}`;
  }

  /** Creates the topic if it is missing and registers its value schema; idempotent. */
  async ensure(outputTopic: string): Promise<void> {
    const admin = await this.kafka.client.admin();
    try {
      await admin.ensureTopics([
        {
          name: this.deployed(outputTopic),
          partitions: this.config.CDP_TOPIC_PARTITIONS,
          replicationFactor: this.config.CDP_TOPIC_REPLICATION,
          cleanupPolicy: Topics.segmentChanges.cleanupPolicy,
        },
      ]);
    } finally {
      await admin.close();
    }
    await this.codec(outputTopic);
  }

  /** The codec of a per-segment topic (schema registered once; a failure is retried on the next call). */
  codec(outputTopic: string): Promise<TopicCodec<SegmentChange>> {
    let codec = this.codecs.get(outputTopic);
    if (!codec) {
      codec = this.serde.codec(Topics.segmentChanges, this.deployed(outputTopic));
      codec.catch(() => this.codecs.delete(outputTopic));
      this.codecs.set(outputTopic, codec);
    }
    return codec;
  }
}
