import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { recordKey, Topics, type RawEvent } from '@cdp/contracts';
import { KafkaGateway, StageTracer, type KafkaHeaders, type TopicCodec } from '@cdp/kafka';
import { HealthRegistry } from '@cdp/platform';
import { CollectorConfig } from '../collector.config';
import { AckState, withDeadline } from './kafka-availability';
import { partitionId, PreparedEvent, type SegmentMessage } from './segment-message';

const PROBE_MS = 1_500;

/** The caller's W3C trace headers, if it sent any: its trace then continues through the pipeline. */
export function callerTrace(headers: Record<string, string | string[] | undefined>): KafkaHeaders | undefined {
  const traceparent = headers['traceparent'];
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = headers['tracestate'];
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}

/**
 * Writes accepted events to cdp.events.raw.v1; resolves only once Kafka acknowledged them
 * (acks=all), and rejects within CDP_PRODUCE_TIMEOUT_MS when it does not, so that a request
 * never hangs on kafkajs retries. Readiness fails while writes fail.
 */
@Injectable()
export class EventWriter implements OnModuleInit {
  private readonly logger = new Logger(EventWriter.name);
  private codec!: TopicCodec<RawEvent>;
  readonly acks = new AckState();
  private probe: Promise<void> | undefined;
  private readonly tracer = new StageTracer('collector', SpanKind.PRODUCER);

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly config: CollectorConfig,
    health: HealthRegistry,
  ) {
    health.register('kafka-acks', () => this.readiness());
    // The database only verifies keys not seen lately; the rest keep ingesting while it is away.
    health.advisory('mongodb');
  }

  async onModuleInit(): Promise<void> {
    this.codec = await this.kafka.codec(Topics.rawEvents);
  }

  /**
   * `trace`: the caller's W3C trace headers (traceparent, tracestate), if it sent any. The request
   * gets one collector span under them, shared by its events (a span per event cost a twentieth of
   * the collector's CPU); the stages after it give each event a span of its own. Events already
   * serialized (prepareEvents) are not serialized again.
   */
  async write(
    workspaceId: string,
    sourceId: string | null,
    receivedAt: Date,
    messages: readonly (SegmentMessage | PreparedEvent)[],
    trace?: KafkaHeaders,
  ): Promise<void> {
    try {
      await withDeadline(this.send(workspaceId, sourceId, receivedAt, messages, trace), this.config.CDP_PRODUCE_TIMEOUT_MS);
      this.acks.succeeded();
    } catch (e) {
      this.acks.failed();
      throw e;
    }
  }

  private async send(
    workspaceId: string,
    sourceId: string | null,
    receivedAt: Date,
    messages: readonly (SegmentMessage | PreparedEvent)[],
    trace: KafkaHeaders | undefined,
  ): Promise<void> {
    const headers = this.tracer.child(trace);
    const records = await Promise.all(
      messages.map(async (event) => {
        const [m, payload] = event instanceof PreparedEvent ? [event.message, event.json] : [event, JSON.stringify(event)];
        return {
          topic: this.codec.topic,
          key: recordKey(workspaceId, partitionId(m)),
          value: await this.codec.encode({
            workspaceId,
            sourceId,
            messageId: m.messageId,
            type: m.type,
            receivedAt: receivedAt.getTime(),
            payload,
          }),
          headers,
        };
      }),
    );
    await this.kafka.producer.send(records);
  }

  /** Failing while writes fail; a broker that answers again (one probe at a time) clears it. */
  private async readiness(): Promise<void> {
    const failingFor = this.acks.failingFor();
    if (failingFor === null) return;
    this.probe ??= this.probeBroker().finally(() => (this.probe = undefined));
    try {
      await withDeadline(this.probe, PROBE_MS);
    } catch {
      throw new Error(`Kafka has not acknowledged writes for ${Math.round(failingFor / 1000)} s`);
    }
    this.acks.succeeded();
    this.logger.log('Kafka answers again');
  }

  private async probeBroker(): Promise<void> {
    const admin = await this.kafka.client.admin();
    await admin.close();
  }
}
