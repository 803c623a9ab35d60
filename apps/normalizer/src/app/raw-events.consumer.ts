import { Injectable } from '@nestjs/common';
import { normalizeEvent } from '@cdp/cleaning';
import { recordKey, Topics, workspaceOfKey, type NormalizedEvent, type RawEvent } from '@cdp/contracts';
import { DecodeError, KafkaGateway, PipelineConsumer, type InboundRecord, type Rejection, type TopicCodec } from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { rawFromJson } from './raw-from-json';

/**
 * cdp.events.raw.v1 -> cleaning -> cdp.events.normalized.v1 (or the DLQ with a reason).
 * Accepts Avro in the Confluent wire format and, from apps without a registry client, plain
 * JSON Segment messages keyed by workspace id.
 */
@Injectable()
export class RawEventsConsumer extends PipelineConsumer {
  private out!: TopicCodec<NormalizedEvent>;

  constructor(kafka: KafkaGateway, metrics: Metrics, health: HealthRegistry) {
    super(kafka, metrics, health, [Topics.rawEvents], 'normalizer');
  }

  protected async prepare(): Promise<void> {
    this.out = await this.kafka.codec(Topics.normalizedEvents);
  }

  protected async handle(records: InboundRecord[]): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    const outbound = [];
    for (const record of records) {
      const raw = await this.readRaw(record);
      if ('reason' in raw) {
        rejections.push(raw);
        continue;
      }
      let message: unknown;
      try {
        message = JSON.parse(raw.payload);
      } catch {
        rejections.push({ record, workspaceId: raw.workspaceId, reason: 'invalid_json', message: 'payload is not valid JSON' });
        continue;
      }
      const result = normalizeEvent(message, raw);
      if (!result.ok) {
        rejections.push({ record, workspaceId: raw.workspaceId, reason: result.reason, message: result.message });
        continue;
      }
      const e = result.event;
      outbound.push({
        topic: this.out.topic,
        key: recordKey(e.workspaceId, e.anonymousId ?? e.userId ?? e.messageId),
        value: await this.out.encode(e),
      });
    }
    await this.kafka.producer.send(outbound);
    return rejections;
  }

  /** The raw envelope from Avro, or from a plain JSON message keyed `<workspaceId>:...`. */
  private async readRaw(record: InboundRecord): Promise<RawEvent | Rejection> {
    const value = record.value;
    if (value && value[0] === 0x7b /* '{' */) return rawFromJson(record, value);
    try {
      return await this.kafka.decode<RawEvent>(value);
    } catch (e) {
      if (e instanceof DecodeError) {
        return {
          record,
          workspaceId: record.key ? workspaceOfKey(record.key.toString('utf8')) || null : null,
          reason: e.code,
          message: e.message,
        };
      }
      throw e;
    }
  }
}
