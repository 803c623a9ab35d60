import { Injectable, type OnModuleInit } from '@nestjs/common';
import { recordKey, Topics, type RawEvent } from '@cdp/contracts';
import { KafkaGateway, type TopicCodec } from '@cdp/kafka';
import { partitionId, type SegmentMessage } from './segment-message';

/** Writes accepted events to cdp.events.raw.v1; resolves only once Kafka acknowledged them (acks=all). */
@Injectable()
export class EventWriter implements OnModuleInit {
  private codec!: TopicCodec<RawEvent>;

  constructor(private readonly kafka: KafkaGateway) {}

  async onModuleInit(): Promise<void> {
    this.codec = await this.kafka.codec(Topics.rawEvents);
  }

  async write(workspaceId: string, sourceId: string | null, receivedAt: Date, messages: SegmentMessage[]): Promise<void> {
    const records = await Promise.all(
      messages.map(async (m) => ({
        topic: this.codec.topic,
        key: recordKey(workspaceId, partitionId(m)),
        value: await this.codec.encode({
          workspaceId,
          sourceId,
          messageId: m.messageId,
          type: m.type,
          receivedAt: receivedAt.getTime(),
          payload: JSON.stringify(m),
        }),
      })),
    );
    await this.kafka.producer.send(records);
  }
}
