import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type Suppression } from '@cdp/contracts';
import { KafkaGateway, type TopicCodec } from '@cdp/kafka';

/**
 * Publishes suppressions on the compacted cdp.privacy.suppressions.v1 (the normalizer drops
 * events of suppressed identifiers from it): one record per identifier hash, a tombstone when
 * lifted. Resolves once every record is acknowledged by all in-sync replicas.
 */
@Injectable()
export class RegulationSuppressions {
  private codec: Promise<TopicCodec<Suppression>> | undefined;

  constructor(private readonly kafka: KafkaGateway) {}

  async suppressed(workspaceId: string, hashes: readonly string[], regulationId: string, suppressedAt: number): Promise<void> {
    const codec = await this.topicCodec();
    const records = await Promise.all(
      [...new Set(hashes)].map(async (identifierHash) => ({
        topic: codec.topic,
        key: recordKey(workspaceId, identifierHash),
        value: await codec.encode({ workspaceId, identifierHash, regulationId, suppressedAt }),
      })),
    );
    await this.kafka.producer.send(records);
  }

  async lifted(workspaceId: string, hashes: readonly string[]): Promise<void> {
    const codec = await this.topicCodec();
    await this.kafka.producer.send([...new Set(hashes)].map((h) => ({ topic: codec.topic, key: recordKey(workspaceId, h), value: null })));
  }

  private topicCodec(): Promise<TopicCodec<Suppression>> {
    // A failed registration is tried again on the next call, not remembered.
    this.codec ??= this.kafka.codec(Topics.suppressions).catch((e: unknown) => {
      this.codec = undefined;
      throw e;
    });
    return this.codec;
  }
}
