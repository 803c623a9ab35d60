import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics, type Suppression } from '@cdp/contracts';
import { ConsumerRunner, DecodeError, KafkaGateway, type InboundRecord } from '@cdp/kafka';
import { HealthRegistry } from '@cdp/platform';
import { DlqIndexRepository } from '../dlq/dlq-index.repository';
import { parseSuppressionKey } from './suppressed-identifiers';
import { SuppressionsRepository, type SuppressionChange } from './suppressions.repository';

/**
 * Materializes cdp.privacy.suppressions.v1 (compacted: a changelog, read from the beginning in its
 * own group `cdp.normalizer.suppressions`) into `normalizer_suppressions`: a record suppresses its
 * key's identifier hash, a tombstone lifts it. Offsets are committed after the store has the
 * chunk; within a chunk the last record of a key wins, so a redelivery ends in the same state.
 */
@Injectable()
export class SuppressionsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SuppressionsConsumer.name);
  private runner: ConsumerRunner | undefined;

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly health: HealthRegistry,
    private readonly store: SuppressionsRepository,
    private readonly deadLetters: DlqIndexRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('consumer:suppressions', async () => {
      if (!this.runner?.isRunning) throw new Error('suppressions consumer not running');
    });
    await this.start();
  }

  private async start(): Promise<void> {
    this.runner = new ConsumerRunner({
      client: this.kafka.client,
      groupId: this.kafka.groupId('.suppressions'),
      topics: [this.kafka.topic(Topics.suppressions)],
      fromBeginning: true,
      handle: (records) => this.handle(records),
      onError: (e) => this.logger.error(`storing suppressions failed, will be redelivered: ${e instanceof Error ? e.message : String(e)}`),
    });
    await this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }

  private async handle(records: InboundRecord[]): Promise<void> {
    // Per workspace, the last change of each hash in this chunk (offset order).
    const latest = new Map<string, Map<string, SuppressionChange>>();
    for (const record of records) {
      const key = record.key ? parseSuppressionKey(record.key.toString('utf8')) : null;
      if (!key) {
        this.logger.warn(`suppression record ${record.partition}@${record.offset} skipped: key is not <workspaceId>:<identifierHash>`);
        continue;
      }
      let suppressed: SuppressionChange['suppressed'] = null;
      if (record.value !== null && record.value.length > 0) {
        try {
          const value = await this.kafka.decode<Suppression>(record.value, record.topic);
          suppressed = { regulationId: value.regulationId, suppressedAt: value.suppressedAt, until: value.until ?? null };
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          // Not dead-lettered (nothing to replay it into); a record we cannot read suppresses nothing.
          this.logger.warn(`suppression record ${record.partition}@${record.offset} skipped: ${e.code}`);
          continue;
        }
      }
      const byHash = latest.get(key.workspaceId) ?? new Map<string, SuppressionChange>();
      byHash.set(key.identifierHash, { identifierHash: key.identifierHash, suppressed });
      latest.set(key.workspaceId, byHash);
    }
    for (const [workspaceId, byHash] of latest) {
      const changes = [...byHash.values()];
      await this.store.apply(workspaceId, changes);
      // Dead letters of a suppressed person go too: they hold the person's data, and the gate would drop a replay of them anyway.
      const purged = await this.deadLetters.purge(
        workspaceId,
        changes.filter((c) => c.suppressed !== null).map((c) => c.identifierHash),
      );
      if (purged > 0) this.logger.log(`purged ${purged} dead letters of suppressed identifiers in workspace ${workspaceId}`);
    }
  }
}
