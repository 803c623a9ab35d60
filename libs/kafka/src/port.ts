/**
 * The small port the platform needs from a Kafka client. Services and the rest of this lib
 * depend on these interfaces only, so kafkajs can be swapped for another client in one file.
 */

export interface OutboundRecord {
  topic: string;
  key: string;
  value: Buffer | null;
  headers?: Record<string, string>;
}

export interface InboundRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Record<string, string>;
}

export interface InboundBatch {
  topic: string;
  partition: number;
  /** Offset of the next record the partition will get, when the client knows it (consumer lag). */
  highWatermark?: string;
  records: InboundRecord[];
}

export interface BatchControl {
  /** Commits the partition's offset as processed up to and including `offset`. */
  commit(offset: string): Promise<void>;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
}

export interface ProducerPort {
  connect(): Promise<void>;
  /** Writes the records with acks from all in-sync replicas; resolves once every one is acknowledged. */
  send(records: OutboundRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConsumerPort {
  connect(): Promise<void>;
  subscribe(topics: string[], fromBeginning: boolean): Promise<void>;
  /** Starts the fetch loop; each batch is one partition's records in offset order. */
  run(onBatch: (batch: InboundBatch, control: BatchControl) => Promise<void>): Promise<void>;
  /** Called when the client stops consuming for good (it will not rejoin by itself). */
  onFatal(listener: (error: unknown) => void): void;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  cleanupPolicy: 'delete' | 'compact';
}

export interface AdminPort {
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Committed offsets and end offsets per partition, for lag. */
  lag(groupId: string, topic: string): Promise<number>;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  groupId: string;
  /** Kept short so a crashed member's partitions move quickly. */
  sessionTimeoutMs?: number;
  /** Partitions whose batches are handled at the same time (each one stays in offset order). */
  partitionsConcurrently?: number;
}

export interface KafkaClientPort {
  producer(): ProducerPort;
  consumer(options: ConsumerOptions): ConsumerPort;
  admin(): Promise<AdminPort>;
}
