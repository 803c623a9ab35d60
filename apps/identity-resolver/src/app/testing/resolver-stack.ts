import { Kafka, logLevel, type Producer } from 'kafkajs';
import {
  recordKey,
  Topics,
  type IdentityMerge,
  type IdentityRemoval,
  type NormalizedEvent,
  type ResolvedEvent,
  type TopicDef,
} from '@cdp/contracts';
import { AvroSerde } from '@cdp/kafka';
// Test support, imported only by the integration specs (the lint rule allows @cdp/testing in *spec.ts files only).
import { stackEndpoints, startServices, testScope, TopicReader, withServiceLogs, type RunningService, type TestScope } from '@cdp/testing';

/**
 * The setup the identity-resolver's integration specs share: built resolver instance(s) on the
 * real stack (Kafka, registry, FerretDB) in a private scope, a producer of normalized events
 * (Avro) and readers of the resolved events, merges and identifier removals.
 */
export const WS = 'demo';
export const T0 = Date.UTC(2026, 0, 1);
export const AUTH = { authorization: 'Bearer dev-api-key' };

export interface ResolverStack {
  scope: TestScope;
  /** The running instances (one unless asked for more; all in the same consumer group). */
  services: RunningService[];
  service: RunningService;
  producer: Producer;
  resolved: TopicReader<ResolvedEvent>;
  merges: TopicReader<IdentityMerge>;
  removals: TopicReader<IdentityRemoval>;
  /** The scoped name of a topic. */
  topic: (def: TopicDef<unknown>) => string;
  /** `<tag>-<scope id>`: a value no other test run uses. */
  id: (tag: string) => string;
  /** A normalized identify call (override any field); `timestamp` T0, `receivedAt` T0 + its sequence number. */
  event: (over?: Partial<NormalizedEvent>) => NormalizedEvent;
  /** Produces the events on the normalized topic, keyed by workspace and anonymousId, userId or messageId. */
  produce: (events: NormalizedEvent[]) => Promise<void>;
  /** Produces the event and waits until a resolver has emitted it. */
  resolve: (over?: Partial<NormalizedEvent>) => Promise<ResolvedEvent>;
  /** A request to the first instance (or `service`) with the dev API key. */
  api: (path: string, init?: RequestInit, service?: RunningService) => Promise<Response>;
  withLogs: (run: () => Promise<void>) => Promise<void>;
  stop: () => Promise<void>;
}

export interface ResolverStackOptions {
  instances?: number;
  env?: Record<string, string>;
}

export async function startResolverStack(label: string, { instances = 1, env = {} }: ResolverStackOptions = {}): Promise<ResolverStack> {
  const scope = testScope(label);
  const topic = (def: TopicDef<unknown>): string => `${scope.namespace}${def.name}`;
  const portBase = 14_000 + Math.floor(Math.random() * 900) * 10;
  // Info level, so audit lines are in the output.
  const names = Array.from({ length: instances }, () => 'identity-resolver');
  const services: RunningService[] = [];
  // One at a time through startServices (it keys by name), on consecutive ports.
  try {
    for (const [i, name] of names.entries()) {
      const started = await startServices([name], portBase + i, { ...scope.env, LOG_LEVEL: 'info', ...env }, { keepOutputChars: 200_000 });
      services.push(started[name] as RunningService);
    }
  } catch (e) {
    await Promise.all(services.map((s) => s.stop()));
    throw e;
  }
  const { kafkaBrokers, registryUrl } = stackEndpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: `${label}-it`, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const serde = AvroSerde.connect(registryUrl);
  const resolved = await new TopicReader<ResolvedEvent>(topic(Topics.resolvedEvents)).start();
  const merges = await new TopicReader<IdentityMerge>(topic(Topics.identityMerges)).start();
  const removals = await new TopicReader<IdentityRemoval>(topic(Topics.identityRemovals)).start();
  const service = services[0] as RunningService;

  let seq = 0;
  const event = (over: Partial<NormalizedEvent> = {}): NormalizedEvent => {
    seq++;
    return {
      workspaceId: WS,
      sourceId: 'src',
      messageId: `m-${scope.id}-${seq}`,
      type: 'identify',
      event: null,
      name: null,
      userId: null,
      anonymousId: null,
      groupId: null,
      previousId: null,
      timestamp: T0,
      receivedAt: T0 + seq,
      traits: '{}',
      properties: '{}',
      context: '{}',
      violations: [],
      ...over,
    };
  };
  const produce = async (events: NormalizedEvent[]): Promise<void> => {
    const codec = await serde.codec(Topics.normalizedEvents, topic(Topics.normalizedEvents));
    const messages = await Promise.all(
      events.map(async (e) => ({ key: recordKey(e.workspaceId, e.anonymousId ?? e.userId ?? e.messageId), value: await codec.encode(e) })),
    );
    await producer.send({ topic: codec.topic, acks: -1, messages });
  };
  return {
    scope,
    services,
    service,
    producer,
    resolved,
    merges,
    removals,
    topic,
    id: (tag) => `${tag}-${scope.id}`,
    event,
    produce,
    resolve: async (over) => {
      const e = event(over);
      await produce([e]);
      return (await resolved.waitForRecord((r) => r.messageId === e.messageId, `resolution of ${e.messageId}`, 60_000)).value;
    },
    api: (path, init = {}, target = service) => fetch(`${target.url}${path}`, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } }),
    withLogs: (run) => withServiceLogs(() => services, run),
    stop: async () => {
      await resolved.stop();
      await merges.stop();
      await removals.stop();
      await producer.disconnect();
      await Promise.all(services.map((s) => s.stop()));
    },
  };
}
