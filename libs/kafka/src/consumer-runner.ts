import type { BatchControl, ConsumerPort, InboundRecord, KafkaClientPort } from './port';

/** Heartbeats while a chunk is handled, well inside the session timeout, so a slow chunk is not an eviction. */
const HEARTBEAT_MS = 2_000;
/** Subscriptions tried before a start fails (retriable errors only). */
const SUBSCRIBE_ATTEMPTS = 5;
/** Pause before a consumer that died for good rejoins its group. */
const REJOIN_DELAY_MS = 1_000;
/** How long a stop waits for the chunks in hand before it leaves the group without them. */
const STOP_DRAIN_MS = 8_000;

export interface ChunkContext {
  topic: string;
  partition: number;
  highWatermark?: string;
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
  /**
   * A stop waits this long for the chunks in hand, then leaves the group without committing them
   * (they are redelivered to another member; effects are idempotent), so a SIGTERM under load
   * ends well inside an orchestrator's grace period. Default 8 s.
   */
  stopDrainMs?: number;
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
  private readonly byPartition = new Map<string, Promise<void>>();
  private stopped = false;
  private abandon: () => void = () => undefined;
  /** Settles when a stop gives up waiting for the chunks in hand. */
  private readonly abandoned = new Promise<void>((resolve) => (this.abandon = resolve));

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
    consumer.onFatal((error) => void this.rejoin(consumer, error));
    await consumer.connect();
    // Right after a process created its topics the broker may still answer "unknown topic" (retriable).
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.subscribe(this.options.topics, this.options.fromBeginning ?? true);
        break;
      } catch (e) {
        if (attempt >= SUBSCRIBE_ATTEMPTS || (e as { retriable?: boolean }).retriable !== true) throw e;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
    this.running = true;
    await consumer.run((batch, control) => {
      const context = { topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark };
      const key = `${batch.topic}\u0000${batch.partition}`;
      // A batch the client re-delivers (after it restarted itself) waits for the earlier one of its
      // partition still being handled: never two handlers of one partition at once.
      const previous = this.byPartition.get(key) ?? Promise.resolve();
      const work = previous.then(() => this.processBatch(batch.records, context, control));
      const settled = work.catch(() => undefined);
      this.byPartition.set(key, settled);
      this.inFlight.add(settled);
      void settled.finally(() => {
        this.inFlight.delete(settled);
        if (this.byPartition.get(key) === settled) this.byPartition.delete(key);
      });
      return work;
    });
  }

  private async processBatch(records: InboundRecord[], context: ChunkContext, control: BatchControl): Promise<void> {
    const size = this.options.chunkSize ?? 500;
    for (let i = 0; i < records.length; i += size) {
      if (!control.isRunning()) return;
      const chunk = records.slice(i, i + size);
      const beat = setInterval(() => control.heartbeat().catch(() => undefined), HEARTBEAT_MS);
      let finished: boolean;
      try {
        const handling = this.options.handle(chunk, context);
        finished = await Promise.race([handling.then(() => true), this.abandoned.then(() => false)]);
        // Left running when abandoned: its late failure is of no consequence (not committed).
        if (!finished) handling.catch(() => undefined);
      } catch (e) {
        this.options.onError?.(e, context);
        throw e;
      } finally {
        clearInterval(beat);
      }
      if (!finished) return;
      const last = chunk.at(-1);
      if (last) await control.commit(last.offset);
      await control.heartbeat();
    }
  }

  /**
   * The client gave up (e.g. evicted from the group and refused a commit): not ready until a
   * new member has joined and resumed from the last committed offsets.
   */
  private async rejoin(dead: ConsumerPort, error: unknown): Promise<void> {
    if (this.stopped || this.consumer !== dead) return;
    this.running = false;
    this.options.onError?.(error, { topic: this.options.topics.join(','), partition: -1 });
    await dead.disconnect().catch(() => undefined);
    await new Promise((r) => setTimeout(r, REJOIN_DELAY_MS));
    if (this.stopped || this.consumer !== dead) return;
    this.consumer = undefined;
    await this.start().catch((e: unknown) => void this.rejoin(this.consumer ?? dead, e));
  }

  /** Finishes the chunks in hand (for at most stopDrainMs), commits them, and leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.consumer) return;
    this.running = false;
    const deadline = setTimeout(() => this.abandon(), this.options.stopDrainMs ?? STOP_DRAIN_MS);
    await Promise.all(this.inFlight);
    clearTimeout(deadline);
    await this.consumer.disconnect();
    this.consumer = undefined;
  }
}
