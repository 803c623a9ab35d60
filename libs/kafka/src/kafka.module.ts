import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import { DynamicModule, Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ALL_TOPICS, topicName, type TopicDef } from '@cdp/contracts';
import { HealthRegistry, Metrics, PlatformConfig, ServiceInfo } from '@cdp/platform';
import { AvroSerde, type TopicCodec } from './avro-serde';
import { BatchingProducer } from './batching-producer';
import { KafkaJsClient } from './kafkajs-client';
import type { KafkaClientPort, OutboundRecord, ProducerPort } from './port';

export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');

/** Topic names, codecs and the shared batching producer of one service. */
@Injectable()
export class KafkaGateway implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KafkaGateway.name);
  private readonly port: ProducerPort;
  readonly producer: BatchingProducer;
  private readonly serde: AvroSerde;
  private connected = false;
  private schemas: Map<string, string> | undefined;

  constructor(
    @Inject(KAFKA_CLIENT) readonly client: KafkaClientPort,
    private readonly config: PlatformConfig,
    private readonly info: ServiceInfo,
    metrics: Metrics,
    health: HealthRegistry,
  ) {
    this.port = client.producer();
    this.producer = new BatchingProducer(this.port, { lingerMs: 2, maxRecords: 1_000 }, (records: OutboundRecord[]) => {
      for (const r of records) metrics.recordsProduced.inc({ topic: r.topic });
    });
    this.serde = AvroSerde.connect(
      config.SCHEMA_REGISTRY_URL,
      config.SCHEMA_REGISTRY_USERNAME
        ? { username: config.SCHEMA_REGISTRY_USERNAME, password: config.SCHEMA_REGISTRY_PASSWORD ?? '' }
        : undefined,
    );
    health.register('kafka', async () => {
      if (!this.connected) throw new Error('producer not connected');
    });
  }

  /** The deployed name of a catalog topic (with CDP_TOPIC_NAMESPACE). */
  topic(def: TopicDef<unknown>): string {
    return topicName(def, this.config.CDP_TOPIC_NAMESPACE);
  }

  /** How many partitions each consumer of this instance handles at once. */
  get partitionsConcurrently(): number {
    return this.config.CDP_CONSUMER_CONCURRENCY;
  }

  /** A consumer group id, namespaced like the topics. */
  groupId(suffix = ''): string {
    return `${this.config.CDP_TOPIC_NAMESPACE}cdp.${this.info.name}${suffix}`;
  }

  codec<T>(def: TopicDef<T>): Promise<TopicCodec<T>> {
    return this.serde.codec(def, this.topic(def));
  }

  /**
   * Decodes a value; given the deployed topic it came from, through that topic's schema, so a
   * record of another schema is refused (`wrong_schema`).
   */
  decode<T>(buffer: Buffer | null, topic?: string): Promise<T> {
    return this.serde.decode<T>(buffer, topic === undefined ? undefined : this.schemaByTopic.get(topic));
  }

  /** Each deployed topic's own schema, for decode (built once: decode runs per record). */
  private get schemaByTopic(): ReadonlyMap<string, string> {
    this.schemas ??= new Map(ALL_TOPICS.map((t) => [this.topic(t), t.schema]));
    return this.schemas;
  }

  async onModuleInit(): Promise<void> {
    await this.ensureTopics();
    await this.registerSchemas();
    await this.port.connect();
    this.connected = true;
  }

  /** Creates missing topics (idempotent; every service does it, so start order does not matter). */
  private async ensureTopics(): Promise<void> {
    const admin = await this.client.admin();
    try {
      await admin.ensureTopics(
        ALL_TOPICS.map((def) => ({
          name: this.topic(def),
          partitions: this.config.CDP_TOPIC_PARTITIONS,
          replicationFactor: this.config.CDP_TOPIC_REPLICATION,
          cleanupPolicy: def.cleanupPolicy,
        })),
      );
    } catch (e) {
      // Another instance may have created them in the meantime; a real failure shows on produce.
      this.logger.warn(`ensureTopics: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await admin.close();
    }
  }

  /**
   * Registers every topic's value schema (idempotent, like ensureTopics), so a consumer in any
   * language finds `<topic>-value` before the topic's first record, as the Helm topics job does.
   */
  private async registerSchemas(): Promise<void> {
    const failed = (await Promise.allSettled(ALL_TOPICS.map((def) => this.serde.codec(def, this.topic(def))))).filter(
      (r): r is PromiseRejectedResult => r.status === 'rejected',
    );
    // Not fatal here: a producer registers its schema again on first use and fails there if it must.
    if (failed[0]) this.logger.warn(`registering schemas: ${failed.length} failed, e.g. ${String(failed[0].reason)}`);
  }

  /** Runs after consumers stopped (beforeApplicationShutdown): everything queued is acknowledged. */
  async onApplicationShutdown(): Promise<void> {
    await this.producer.drain();
    this.connected = false;
    await this.port.disconnect();
  }
}

@Global()
@Module({})
export class KafkaModule {
  static forRoot(): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        {
          provide: KAFKA_CLIENT,
          inject: [PlatformConfig, ServiceInfo],
          useFactory: (config: PlatformConfig, info: ServiceInfo): KafkaClientPort => {
            const logger = new Logger('kafkajs');
            const ca = config.KAFKA_SSL_CA_FILE ? [readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8')] : undefined;
            const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
            return new KafkaJsClient({
              brokers: config.KAFKA_BROKERS.split(','),
              clientId: `cdp-${info.name}`,
              ssl: config.KAFKA_SSL ? (ca ? { ca } : true) : undefined,
              sasl: mechanism && username && password ? ({ mechanism, username, password } as SASLOptions) : undefined,
              log: (level, message) => (level === 'error' ? logger.error(message) : logger.warn(message)),
            });
          },
        },
        KafkaGateway,
      ],
      exports: [KAFKA_CLIENT, KafkaGateway],
    };
  }
}
