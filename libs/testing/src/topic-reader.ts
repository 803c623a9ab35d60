import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { stackEndpoints } from './stack-env';
import { waitFor } from './wait-for';

export interface ReadRecord<T> {
  key: string | null;
  value: T;
  offset: string;
  partition: number;
  /** String headers (trace context and the like). */
  headers: Record<string, string>;
}

/** Reads a topic from the beginning, decoding Avro through the registry, for assertions. */
export class TopicReader<T> {
  readonly records: ReadRecord<T>[] = [];
  /** The keys of the tombstones (null values) read, in order. */
  readonly tombstones: string[] = [];
  private consumer: Consumer | undefined;

  constructor(private readonly topic: string) {}

  async start(): Promise<this> {
    const { kafkaBrokers, registryUrl } = stackEndpoints();
    const registry = new SchemaRegistry({ host: registryUrl });
    const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-test-reader', logLevel: logLevel.NOTHING });
    this.consumer = kafka.consumer({ groupId: `reader-${this.topic}-${Date.now()}`, maxWaitTimeInMs: 50 });
    await this.consumer.connect();
    await waitFor(async () => (await this.topicExists(kafka)) || undefined, `topic ${this.topic}`, 60_000, 200);
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message, partition }) => {
        if (!message.value) {
          this.tombstones.push(message.key?.toString('utf8') ?? '');
          return;
        }
        this.records.push({
          key: message.key?.toString('utf8') ?? null,
          value: (await registry.decode(message.value)) as T,
          offset: message.offset,
          partition,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)])),
        });
      },
    });
    return this;
  }

  private async topicExists(kafka: Kafka): Promise<boolean> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.listTopics()).includes(this.topic);
    } finally {
      await admin.disconnect();
    }
  }

  waitForRecord(predicate: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<ReadRecord<T>> {
    return waitFor(() => this.records.find((r) => predicate(r.value)), what, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
