import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics, type SegmentDefinition } from '@cdp/contracts';
import { ConsumerRunner, DecodeError, KafkaGateway, type InboundRecord } from '@cdp/kafka';
import { HealthRegistry } from '@cdp/platform';
import { SegmentNamesRepository, type SegmentDefinitionChange } from './segment-names.repository';

/**
 * Materializes cdp.segments.definitions.v1 (compacted: read from the beginning in its own group
 * `cdp.profile-store.segment-definitions`) into `profile_segment_names`. Offsets are committed
 * after the store has the chunk; a stored version is only replaced by a higher one, so a
 * redelivery ends in the same state.
 */
@Injectable()
export class SegmentDefinitionsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SegmentDefinitionsConsumer.name);
  private runner: ConsumerRunner | undefined;

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly health: HealthRegistry,
    private readonly names: SegmentNamesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('consumer:segment-definitions', async () => {
      if (!this.runner?.isRunning) throw new Error('segment definitions consumer not running');
    });
    this.runner = new ConsumerRunner({
      client: this.kafka.client,
      groupId: this.kafka.groupId('.segment-definitions'),
      topics: [this.kafka.topic(Topics.segmentDefinitions)],
      fromBeginning: true,
      handle: (records) => this.handle(records),
      onError: (e) => this.logger.error(`storing segment names failed, will be redelivered: ${e instanceof Error ? e.message : String(e)}`),
    });
    await this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }

  private async handle(records: InboundRecord[]): Promise<void> {
    const byWorkspace = new Map<string, SegmentDefinitionChange[]>();
    for (const record of records) {
      const key = record.key?.toString('utf8') ?? '';
      const at = key.indexOf(':');
      if (at <= 0 || at === key.length - 1) {
        this.logger.warn(`segment definition ${record.partition}@${record.offset} skipped: key is not <workspaceId>:<segmentId>`);
        continue;
      }
      const [workspaceId, segmentId] = [key.slice(0, at), key.slice(at + 1)];
      let definition: SegmentDefinitionChange['definition'] = null;
      // Only a real tombstone (null) deletes: for good, so an empty value is not read as one.
      if (record.value !== null) {
        try {
          const value = await this.kafka.decode<SegmentDefinition>(record.value, record.topic);
          if (value.workspaceId !== workspaceId || value.segmentId !== segmentId) {
            this.logger.warn(
              `segment definition ${record.partition}@${record.offset} skipped: its value names another segment than its key`,
            );
            continue;
          }
          definition = { name: value.name, version: value.version, computedTraitsRead: value.computedTraitsRead };
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          // Not dead-lettered (nothing to replay it into): the names stay as they were.
          this.logger.warn(`segment definition ${record.partition}@${record.offset} skipped: ${e.code}`);
          continue;
        }
      }
      byWorkspace.set(workspaceId, [...(byWorkspace.get(workspaceId) ?? []), { segmentId, definition }]);
    }
    for (const [workspaceId, changes] of byWorkspace) await this.names.apply(workspaceId, changes);
  }
}
