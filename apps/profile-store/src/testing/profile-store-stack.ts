import { Kafka, logLevel, type Producer } from 'kafkajs';
import { recordKey, Topics, type ProfileChange, type ResolvedEvent, type TopicDef } from '@cdp/contracts';
import { AvroSerde } from '@cdp/kafka';
// Test support, imported only by the integration specs.
import { stackEndpoints, startService, TopicReader, withServiceLogs, type RunningService, type TestScope } from '@cdp/testing';

/**
 * The setup the profile-store's integration specs share: the built profile-store in a private
 * scope on the real stack (Kafka, registry, FerretDB), a producer of Avro records on its input
 * topics and, when asked, a reader of its profile changes.
 */

/** The demo workspace of a scope's own database, and its API key. */
export const DEMO_WS = 'demo';
export const AUTH = { authorization: 'Bearer dev-api-key' };

/** A port base no other test file picks (the profile-store goes on base + 4, per the brief's order). */
export const randomPortBase = (from = 14_000): number => from + Math.floor(Math.random() * 900) * 10;

export interface ProfileStoreStackOptions {
  port: number;
  clientId: string;
  /** Extra environment of the service (beyond the scope's). */
  env?: Record<string, string>;
  /** Start a reader of cdp.profiles.changes.v1 (`changes`). */
  readChanges?: boolean;
}

export interface ProfileStoreStack {
  scope: TestScope;
  /** The running profile-store (replaced by `restart`). */
  service: RunningService;
  kafka: Kafka;
  /** The profile changes, if `readChanges` was asked (else a failure on use). */
  changes: TopicReader<ProfileChange>;
  /** The scoped name of a topic. */
  topic: (def: TopicDef<unknown>) => string;
  /** Avro records with one key on the scope's topic of `def`. */
  /** Records under one key; null: a tombstone. */
  produce: <T>(def: TopicDef<T>, key: string, values: (T | null)[]) => Promise<void>;
  /** Resolved events of one profile of the demo workspace (its key, so in order). */
  sendEvents: (profileId: string, events: ResolvedEvent[]) => Promise<void>;
  /** Stops the profile-store and starts it again on its port. */
  restart: () => Promise<void>;
  /** On failure, the service's warnings and errors. */
  withLogs: (run: () => Promise<void>) => Promise<void>;
  stop: () => Promise<void>;
}

/** A resolved event with empty defaults for what a spec does not name. */
export const resolvedEvent = (
  fields: Pick<ResolvedEvent, 'workspaceId' | 'profileId' | 'messageId' | 'timestamp' | 'receivedAt'> & Partial<ResolvedEvent>,
): ResolvedEvent => ({
  identifiers: [],
  sourceId: 'src',
  type: 'identify',
  event: null,
  name: null,
  userId: null,
  anonymousId: null,
  groupId: null,
  traits: '{}',
  properties: '{}',
  context: '{}',
  ...fields,
});

/** Starts the profile-store in `scope` with a producer (and a reader of its changes, if asked). */
export async function startProfileStoreStack(scope: TestScope, options: ProfileStoreStackOptions): Promise<ProfileStoreStack> {
  const env = { ...scope.env, ...options.env };
  const topic = (def: TopicDef<unknown>): string => `${scope.namespace}${def.name}`;
  let service: RunningService | undefined;
  let producer: Producer | undefined;
  let changes: TopicReader<ProfileChange> | undefined;
  try {
    service = await startService('profile-store', options.port, env);
    const { kafkaBrokers, registryUrl } = stackEndpoints();
    const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: options.clientId, logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    const serde = AvroSerde.connect(registryUrl);
    if (options.readChanges) changes = await new TopicReader<ProfileChange>(topic(Topics.profileChanges)).start();
    const p = producer;
    const produce = async <T>(def: TopicDef<T>, key: string, values: (T | null)[]): Promise<void> => {
      const codec = await serde.codec(def, topic(def));
      const messages = await Promise.all(values.map(async (v) => ({ key, value: v === null ? null : await codec.encode(v) })));
      await p.send({ topic: codec.topic, acks: -1, messages });
    };
    const reader = changes;
    const stack: ProfileStoreStack = {
      scope,
      service,
      kafka,
      get changes(): TopicReader<ProfileChange> {
        if (!reader) throw new Error('the stack reads no profile changes (readChanges)');
        return reader;
      },
      topic,
      produce,
      sendEvents: (profileId, events) => produce(Topics.resolvedEvents, recordKey(DEMO_WS, profileId), events),
      restart: async () => {
        await stack.service.stop();
        stack.service = await startService('profile-store', options.port, env);
      },
      withLogs: (run) => withServiceLogs(() => [stack.service], run),
      stop: async () => {
        await reader?.stop();
        await p.disconnect();
        await stack.service.stop();
      },
    };
    return stack;
  } catch (e) {
    await changes?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    throw e;
  }
}
