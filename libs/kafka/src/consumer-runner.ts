import type { BatchControl, ConsumerPort, InboundRecord, KafkaClientPort } from './port';

export interface ChunkContext {
  topic: string;
  partition: number;
}

export interface ConsumerRunnerOptions {
  client: KafkaClientPort;
  groupId: string;
  topics: string[];
  /** Handles records in offset order; must store its effects before resolving (idempotently). */
  handle: (records: InboundRecord[], context: ChunkContext) => Promise<void>;
  /** Records handled per step, so long batches heartbeat and commit as they go. */
  chunkSize?: number;
  /**
   * Partitions handled at the same time. Handlers already tolerate other instances working on
   * other partitions concurrently (compare-and-set, idempotent writes), so within one process
   * this only overlaps database round trips.
   */
  partitionsConcurrently?: number;
  fromBeginning?: boolean;
  onError?: (error: unknown, context: ChunkContext) => void;
}

/**
 * Runs a consumer group member on eachBatch with manual commits: an offset is committed only
 * after `handle` resolved for every record up to it, so a crash redelivers and never skips.
 * A failing chunk is not committed; the client restarts from the last committed offset.
 */
export class ConsumerRunner {
  private consumer: ConsumerPort | undefined;
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: ConsumerRunnerOptions) {}

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    const consumer = this.options.client.consumer({
      groupId: this.options.groupId,
      partitionsConcurrently: this.options.partitionsConcurrently,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe(this.options.topics, this.options.fromBeginning ?? true);
    this.running = true;
    await consumer.run((batch, control) => {
      const work = this.processBatch(batch.records, { topic: batch.topic, partition: batch.partition }, control);
      const settled = work.catch(() => undefined).finally(() => this.inFlight.delete(settled));
      this.inFlight.add(settled);
      return work;
    });
  }

  private async processBatch(records: InboundRecord[], context: ChunkContext, control: BatchControl): Promise<void> {
    const size = this.options.chunkSize ?? 500;
    for (let i = 0; i < records.length; i += size) {
      if (!control.isRunning()) return;
      const chunk = records.slice(i, i + size);
      try {
        await this.options.handle(chunk, context);
      } catch (e) {
        this.options.onError?.(e, context);
        throw e;
      }
      const last = chunk.at(-1);
      if (last) await control.commit(last.offset);
      await control.heartbeat();
    }
  }

  /** Finishes the chunks in hand, commits them, and leaves the group. */
  async stop(): Promise<void> {
    if (!this.consumer) return;
    this.running = false;
    await Promise.all(this.inFlight);
    await this.consumer.disconnect();
    this.consumer = undefined;
  }
}
