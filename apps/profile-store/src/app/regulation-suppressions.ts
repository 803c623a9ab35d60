import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type Suppression } from '@cdp/contracts';
import { KafkaGateway, type TopicCodec } from '@cdp/kafka';
import { groupBy } from '@cdp/platform';
import { SUPPRESS_FOREVER } from './erasures.repository';

/**
 * Publishes suppressions on the compacted cdp.privacy.suppressions.v1 (the normalizer drops
 * events of suppressed identifiers from it): one record per identifier hash (with its end, for an
 * erased person's), a tombstone when lifted. Resolves once every record is acknowledged by all
 * in-sync replicas.
 */
@Injectable()
export class RegulationSuppressions {
  private codec: Promise<TopicCodec<Suppression>> | undefined;

  constructor(private readonly kafka: KafkaGateway) {}

  /** `until`: null for "until lifted" (a regulation), else when it ends by itself (an erasure's window). */
  async suppressed(
    workspaceId: string,
    hashes: readonly string[],
    regulationId: string,
    suppressedAt: number,
    until: number | null = null,
  ): Promise<void> {
    const codec = await this.topicCodec();
    const records = await Promise.all(
      [...new Set(hashes)].map(async (identifierHash) => ({
        topic: codec.topic,
        key: recordKey(workspaceId, identifierHash),
        value: await codec.encode({ workspaceId, identifierHash, regulationId, suppressedAt, until }),
      })),
    );
    await this.kafka.producer.send(records);
  }

  /**
   * Publishes what profile_erasures holds for these identifier hashes (`held`: their ends, see
   * ErasuresRepository.untilOf): a record with its end (none for SUPPRESS_FOREVER), a tombstone
   * for a hash no longer held or already over.
   */
  async mirror(
    workspaceId: string,
    hashes: readonly string[],
    held: ReadonlyMap<string, number>,
    regulationId: string,
    at: number,
  ): Promise<void> {
    const unique = [...new Set(hashes)];
    const until = (h: string): number => held.get(h) ?? 0;
    const lifted = unique.filter((h) => until(h) <= at);
    for (const [end, group] of groupBy(
      unique.filter((h) => until(h) > at),
      (h) => until(h),
    ))
      await this.suppressed(workspaceId, group, regulationId, at, end >= SUPPRESS_FOREVER ? null : end);
    if (lifted.length > 0) await this.lifted(workspaceId, lifted);
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
