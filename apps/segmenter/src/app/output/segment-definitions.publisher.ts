import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { recordKey, Topics, type SegmentDefinition } from '@cdp/contracts';
import { KafkaGateway } from '@cdp/kafka';
import { computedRead } from '@cdp/segment-language';
import { SegmentsRepository, type SegmentDocument } from '../segments/segments.repository';

/** How often segments whose current version is not on the topic yet are looked for. */
const REPAIR_EVERY_MS = 60_000;
/** Rounds of "send, read back, send what moved on" before the rest is left to the next run. */
const MAX_ROUNDS = 5;

/** The record of a stored segment. */
export const definitionRecord = (d: SegmentDocument): SegmentDefinition => ({
  workspaceId: d.workspaceId,
  segmentId: d.segmentId,
  name: d.name,
  version: d.version ?? 1,
  definition: d.text,
  computedTraitsRead: computedRead(d.definition),
  outputTraits: d.outputTraits ?? [],
  outputTopic: d.outputTopic ?? null,
  updatedAt: d.updatedAt.getTime(),
});

/**
 * cdp.segments.definitions.v1 (compacted, keyed `<workspaceId>:<segmentId>`): every stored version
 * of a segment, and a tombstone once it is deleted, so that the profile-store and downstream
 * services know segments by name without calling this API.
 *
 * The `segments` collection is the source of truth and one path publishes it: the segments whose
 * `publishedVersion` is behind `version`, at start-up, every minute and right after a save (not
 * awaited by the request: a client that timed out on a slow Kafka and retried its POST would
 * create a second segment). After each send the segments are read back and a version that moved
 * on meanwhile is sent again, so the last record of a key is never older than the stored segment,
 * whichever instance's send lands last (compaction keeps the last record, not the highest version).
 */
@Injectable()
export class SegmentDefinitionPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SegmentDefinitionPublisher.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly segments: SegmentsRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.changed();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** A segment was saved: publishes what is not on the topic yet, soon (one run at a time). */
  changed(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.repair()
      .then(
        () => undefined,
        (e: unknown) => this.logger.warn(`publishing segment definitions failed, retried within a minute: ${message(e)}`),
      )
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.changed();
          return;
        }
        this.timer = setTimeout(() => this.changed(), REPAIR_EVERY_MS);
        this.timer.unref();
      });
  }

  /** The tombstone of a deleted segment; throws when Kafka does not take it (the DELETE can be repeated). */
  async retract(workspaceId: string, segmentId: string): Promise<void> {
    const codec = await this.kafka.codec(Topics.segmentDefinitions);
    await this.kafka.producer.send([{ topic: codec.topic, key: recordKey(workspaceId, segmentId), value: null }]);
  }

  /** Publishes every segment whose current version is not on the topic yet; answers how many it sent. */
  async repair(): Promise<number> {
    let pending = await this.segments.unpublished();
    let sent = 0;
    for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
      const out = await this.send(pending);
      sent += out.length;
      // Read back: a segment saved again meanwhile (here or on another instance) goes out again.
      const current = await Promise.all(out.map((d) => this.segments.get(d.workspaceId, d.segmentId)));
      const moved: SegmentDocument[] = [];
      await Promise.all(
        out.map(async (d, i) => {
          const now = current[i];
          if (!now || now.deleting) return; // its tombstone is the DELETE's
          if ((now.version ?? 1) === d.version) await this.segments.markPublished(d.workspaceId, d.segmentId, d.version);
          else moved.push(now);
        }),
      );
      pending = moved;
    }
    return sent;
  }

  /**
   * One produce of the segments' records; answers the segments sent. One that cannot be encoded
   * is logged and left out (tried again on the next run), so it does not hold the others up.
   */
  private async send(docs: SegmentDocument[]): Promise<SegmentDocument[]> {
    const codec = await this.kafka.codec(Topics.segmentDefinitions);
    const encoded = await Promise.all(
      docs.map(async (d) => {
        try {
          return [
            {
              doc: d,
              record: { topic: codec.topic, key: recordKey(d.workspaceId, d.segmentId), value: await codec.encode(definitionRecord(d)) },
            },
          ];
        } catch (e) {
          this.logger.warn(`segment ${d.workspaceId}/${d.segmentId} v${d.version} not published: ${message(e)}`);
          return [];
        }
      }),
    );
    const out = encoded.flat();
    if (out.length > 0) await this.kafka.producer.send(out.map((o) => o.record));
    return out.map((o) => o.doc);
  }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
