import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { recordKey, Topics, type SegmentDefinition } from '@cdp/contracts';
import { KafkaGateway } from '@cdp/kafka';
import { computedRead } from '@cdp/segment-language';
import { SegmentsRepository, type SegmentDocument } from '../segments/segments.repository';

/** How often segments whose current version is not on the topic yet are published again. */
const REPAIR_EVERY_MS = 60_000;

/** The record of a stored segment. */
export const definitionRecord = (d: SegmentDocument): SegmentDefinition => ({
  workspaceId: d.workspaceId,
  segmentId: d.segmentId,
  name: d.name,
  version: d.version,
  definition: d.text,
  computedTraitsRead: computedRead(d.definition),
  outputTraits: d.outputTraits ?? [],
  outputTopic: d.outputTopic ?? null,
  updatedAt: d.updatedAt.getTime(),
});

/**
 * cdp.segments.definitions.v1 (compacted, keyed `<workspaceId>:<segmentId>`): every stored version
 * of a segment, and a tombstone once it is deleted, so that the profile-store and downstream
 * services know segments by name without calling this API. The `segments` collection is the
 * source of truth: a save whose publish fails still answers (a retried POST would create a second
 * segment), and what is not on the topic yet (`publishedVersion` behind `version`) is published
 * again at start-up and every minute. A consumer keeps the highest version of each segment.
 */
@Injectable()
export class SegmentDefinitionPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SegmentDefinitionPublisher.name);
  private timer: NodeJS.Timeout | undefined;
  private repairing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly segments: SegmentsRepository,
  ) {}

  onApplicationBootstrap(): void {
    const repair = (): void => {
      this.repairing = this.repair()
        .catch((e: unknown) => this.logger.warn(`publishing unpublished segment definitions failed: ${message(e)}`))
        .finally(() => {
          this.timer = setTimeout(repair, REPAIR_EVERY_MS);
          this.timer.unref();
        });
    };
    repair();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    await this.repairing;
  }

  /** Publishes a saved version (acks=all); a failure is logged and left to the repair. */
  async publish(doc: SegmentDocument): Promise<void> {
    try {
      await this.send([doc]);
    } catch (e) {
      this.logger.warn(`segment ${doc.segmentId} v${doc.version} not published yet (retried within a minute): ${message(e)}`);
    }
  }

  /** The tombstone of a deleted segment; throws when Kafka does not take it (the DELETE can be repeated). */
  async retract(workspaceId: string, segmentId: string): Promise<void> {
    const codec = await this.kafka.codec(Topics.segmentDefinitions);
    await this.kafka.producer.send([{ topic: codec.topic, key: recordKey(workspaceId, segmentId), value: null }]);
  }

  /** Publishes every segment whose current version is not on the topic yet; answers how many. */
  async repair(): Promise<number> {
    const pending = await this.segments.unpublished();
    if (pending.length > 0) await this.send(pending);
    return pending.length;
  }

  private async send(docs: SegmentDocument[]): Promise<void> {
    const codec = await this.kafka.codec(Topics.segmentDefinitions);
    const records = await Promise.all(
      docs.map(async (d) => ({
        topic: codec.topic,
        key: recordKey(d.workspaceId, d.segmentId),
        value: await codec.encode(definitionRecord(d)),
      })),
    );
    await this.kafka.producer.send(records);
    await Promise.all(docs.map((d) => this.segments.markPublished(d.workspaceId, d.segmentId, d.version)));
  }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
