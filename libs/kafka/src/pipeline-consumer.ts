import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics, recordKey, workspaceOfKey, type DeadLetter, type DlqReason, type TopicDef } from '@cdp/contracts';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { ConsumerRunner, type ChunkContext } from './consumer-runner';
import { KafkaGateway } from './kafka.module';
import { LagGauge } from './lag-gauge';
import type { InboundRecord, OutboundRecord } from './port';
import { DecodeError, type TopicCodec } from './avro-serde';
import { StageTracer, traceIdOf, type KafkaHeaders } from './tracing';

/** A record set aside: the DLQ reason code (one of the documented list) and a message for a human. */
export interface Rejection {
  record: InboundRecord;
  workspaceId: string | null;
  reason: DlqReason;
  message: string;
  /** The event's messageId, when the record could be read that far (for the log line). */
  messageId?: string;
}

/** A decoded value, or why the record goes to the DLQ. Tagged: some values have a `reason` of their own. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

/**
 * Base of a service's consumer: joins the group when the app has started, hands records to
 * `handle` in chunks, commits after the chunk's effects are stored, leaves the group on shutdown.
 * Subclasses stay thin: decode, call the domain, write, return rejections for the DLQ.
 */
export abstract class PipelineConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private runner: ConsumerRunner | undefined;
  private dlq: TopicCodec<DeadLetter> | undefined;
  private readonly tracer: StageTracer;
  private readonly lag: LagGauge;

  protected constructor(
    protected readonly kafka: KafkaGateway,
    private readonly metrics: Metrics,
    private readonly health: HealthRegistry,
    private readonly sources: TopicDef<unknown>[],
    private readonly stage: string,
  ) {
    this.tracer = new StageTracer(stage);
    this.lag = new LagGauge(metrics.consumerLag);
  }

  /** Stores the effects of the records (idempotently) and returns those it could not accept. */
  protected abstract handle(records: InboundRecord[], context: ChunkContext): Promise<Rejection[]>;

  /** Called once before consuming starts: register codecs, load state. */
  protected abstract prepare(): Promise<void>;

  async onApplicationBootstrap(): Promise<void> {
    this.dlq = await this.kafka.codec(Topics.deadLetters);
    await this.prepare();
    const topics = this.sources.map((t) => this.kafka.topic(t));
    this.runner = new ConsumerRunner({
      client: this.kafka.client,
      groupId: this.kafka.groupId(),
      partitionsConcurrently: this.kafka.partitionsConcurrently,
      topics,
      handle: async (records, context) => {
        const end = this.metrics.batchSeconds.startTimer({ topic: context.topic });
        const now = Date.now();
        this.metrics.batchRecords.observe({ topic: context.topic }, records.length);
        for (const r of records) this.metrics.recordWaitSeconds.observe({ topic: context.topic }, Math.max(0, now - r.timestamp) / 1000);
        const first = records[0];
        if (first) this.lag.pending(context, first.offset);
        const rejected = await this.handle(records, context);
        await this.deadLetter(rejected);
        this.metrics.recordsProcessed.inc({ topic: context.topic, outcome: 'ok' }, records.length - rejected.length);
        if (rejected.length) this.metrics.recordsProcessed.inc({ topic: context.topic, outcome: 'dead_lettered' }, rejected.length);
        const last = records.at(-1);
        if (last) this.lag.handled(context, last.offset);
        end();
      },
      onError: (e, context) => {
        this.metrics.chunkFailures.inc({ topic: context.topic });
        this.logger.error(
          `chunk of ${context.topic}[${context.partition}] failed, will be redelivered: ${e instanceof Error ? e.message : String(e)}`,
        );
      },
    });
    this.health.register(`consumer:${this.stage}`, async () => {
      if (!this.runner?.isRunning) throw new Error('consumer not running');
    });
    await this.runner.start();
    this.logger.log(`consuming ${topics.join(', ')} as ${this.kafka.groupId()}`);
  }

  /** Decodes a record's Avro value; undecodable bytes become a rejection with the decode reason. */
  protected async decodeRecord<T>(record: InboundRecord): Promise<DecodeResult<T>> {
    try {
      return { ok: true, value: await this.kafka.decode<T>(record.value, record.topic) };
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const workspaceId = record.key ? workspaceOfKey(record.key.toString('utf8')) || null : null;
      return { ok: false, rejection: { record, workspaceId, reason: e.code, message: e.message } };
    }
  }

  /** Headers for an output derived from `source`: its trace context, one span further (this stage's). */
  protected traceHeaders(source: InboundRecord): KafkaHeaders {
    return this.tracer.child(source.headers);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.lag.stop();
    await this.runner?.stop();
  }

  private async deadLetter(rejections: Rejection[]): Promise<void> {
    if (rejections.length === 0 || !this.dlq) return;
    const dlq = this.dlq;
    const records: OutboundRecord[] = await Promise.all(
      rejections.map(async (r) => {
        const letter: DeadLetter = {
          workspaceId: r.workspaceId,
          stage: this.stage,
          reason: r.reason,
          message: r.message,
          sourceTopic: r.record.topic,
          sourcePartition: r.record.partition,
          sourceOffset: r.record.offset,
          originalKey: r.record.key,
          originalValue: r.record.value,
          failedAt: Date.now(),
        };
        this.logger.warn({
          msg: `dead-lettered ${r.record.topic}[${r.record.partition}]@${r.record.offset}: ${r.reason}`,
          workspaceId: r.workspaceId,
          messageId: r.messageId,
          reason: r.reason,
          traceId: traceIdOf(r.record.headers),
        });
        return {
          topic: dlq.topic,
          key: recordKey(r.workspaceId ?? 'unknown', r.record.topic),
          value: await dlq.encode(letter),
          headers: this.traceHeaders(r.record),
        };
      }),
    );
    await this.kafka.producer.send(records);
  }
}
