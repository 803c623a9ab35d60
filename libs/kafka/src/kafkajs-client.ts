import {
  CompressionTypes,
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type ISocketFactory,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { groupBy } from '@cdp/platform';
import type {
  AdminPort,
  BatchControl,
  ConsumerOptions,
  ConsumerPort,
  InboundBatch,
  KafkaClientPort,
  OutboundRecord,
  ProducerPort,
  TopicSpec,
} from './port';

export interface KafkaJsOptions {
  brokers: string[];
  clientId: string;
  /** true for TLS with the system CAs, or the CA certificates (PEM) to trust. */
  ssl?: boolean | { ca: string[] };
  sasl?: SASLOptions;
  /** Receives kafkajs warnings and errors (never message contents). */
  log?: (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => void;
  /** How broker connections are opened (kafkajs' net/tls by default): through a proxy, or cut by a test. */
  socketFactory?: ISocketFactory;
}

/** The Kafka port on kafkajs. */
export class KafkaJsClient implements KafkaClientPort {
  private readonly kafka: Kafka;

  constructor(options: KafkaJsOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ssl: options.ssl,
      sasl: options.sasl,
      socketFactory: options.socketFactory,
      logLevel: logLevel.WARN,
      retry: { initialRetryTime: 100, retries: 8 },
      logCreator:
        () =>
        ({ level, log }) => {
          const { message, ...extra } = log;
          options.log?.(level === logLevel.ERROR ? 'error' : 'warn', String(message), extra);
        },
    });
  }

  producer(): ProducerPort {
    return new KafkaJsProducer(
      this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // murmur2 on the key, as the Java client: records of one key land where other clients put them.
        createPartitioner: Partitioners.DefaultPartitioner,
      }),
    );
  }

  consumer(options: ConsumerOptions): ConsumerPort {
    return new KafkaJsConsumer(
      options.partitionsConcurrently ?? 1,
      this.kafka.consumer({
        groupId: options.groupId,
        sessionTimeout: options.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 1_000,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 50,
      }),
    );
  }

  async admin(): Promise<AdminPort> {
    const admin = this.kafka.admin();
    await admin.connect();
    return {
      ensureTopics: async (topics: TopicSpec[]) => {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.name));
        if (missing.length === 0) return;
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor,
            configEntries: [{ name: 'cleanup.policy', value: t.cleanupPolicy }],
          })),
        });
      },
      lag: async (groupId: string, topic: string) => {
        const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]);
        const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
        return ends.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Math.max(0, done.get(p.partition) ?? 0)), 0);
      },
      close: () => admin.disconnect(),
    };
  }
}

class KafkaJsProducer implements ProducerPort {
  constructor(private readonly producer: Producer) {}

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    const byTopic = groupBy(records, (r) => r.topic);
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, rs]) => ({
        topic,
        messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

class KafkaJsConsumer implements ConsumerPort {
  constructor(
    private readonly partitionsConcurrently: number,
    private readonly consumer: Consumer,
  ) {}

  connect(): Promise<void> {
    return this.consumer.connect();
  }

  subscribe(topics: string[], fromBeginning: boolean): Promise<void> {
    return this.consumer.subscribe({ topics, fromBeginning });
  }

  run(onBatch: (batch: InboundBatch, control: BatchControl) => Promise<void>): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.partitionsConcurrently,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const control: BatchControl = {
          commit: async (offset) => {
            resolveOffset(offset);
            await this.consumer.commitOffsets([
              { topic: batch.topic, partition: batch.partition, offset: (BigInt(offset) + 1n).toString() },
            ]);
          },
          heartbeat,
          isRunning: () => isRunning() && !isStale(),
        };
        await onBatch(
          {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            records: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key,
              value: m.value,
              timestamp: Number(m.timestamp),
              headers: Object.fromEntries(
                Object.entries(m.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v ?? '')]),
              ),
            })),
          },
          control,
        );
      },
    });
  }

  onFatal(listener: (error: unknown) => void): void {
    // kafkajs restarts itself after retriable errors; `restart: false` means the member is gone.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) listener(payload.error);
    });
  }

  disconnect(): Promise<void> {
    return this.consumer.disconnect();
  }
}
