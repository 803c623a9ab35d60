import { Kafka, logLevel, type Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { Topics, type DeadLetter, type NormalizedEvent, type RawEvent, type TopicDef } from '@cdp/contracts';
import { AvroSerde, type TopicCodec } from '@cdp/kafka';
// Test support, imported only by the integration specs (the lint rule allows @cdp/testing in *spec.ts files only).
import { stackEndpoints, startService, TopicReader, withServiceLogs, type RunningService, type TestScope } from '@cdp/testing';

/**
 * The setup the normalizer's integration specs share: a private scope on the real stack (Kafka,
 * registry, FerretDB), the built normalizer, a producer of raw events (Avro or plain JSON), and
 * readers of the normalized events and the DLQ.
 */

/** The demo workspace of a scope's own database, and its API key (all scopes). */
export const DEMO_WS = 'demo';
export const AUTH = { authorization: 'Bearer dev-api-key' };

/** A port base no other test file picks (services go on base + 1, + 2, ...). */
export const randomPortBase = (): number => 14_000 + Math.floor(Math.random() * 900) * 10;

export interface NormalizerStack {
  scope: TestScope;
  normalizer: RunningService;
  /** Every service the stack runs (the normalizer and any started with it), for failure logs. */
  services: RunningService[];
  rawTopic: string;
  normalized: TopicReader<NormalizedEvent>;
  dlq: TopicReader<DeadLetter>;
  mongo: MongoClient;
  /** The scoped name of a topic. */
  topic: (def: TopicDef<unknown>) => string;
  /** A raw event in Avro (Confluent wire format) with this messageId. */
  avro: (workspaceId: string, messageId: string, message: Record<string, unknown>) => Promise<Buffer>;
  /** Raw records with one key (so one partition, in order). */
  send: (key: string, ...values: Buffer[]) => Promise<void>;
  /** A plain JSON Segment message keyed `key` (`<workspaceId>:...`). */
  sendJson: (key: string, message: Record<string, unknown>) => Promise<void>;
  /** Calls the normalizer's API (JSON body; the demo key unless other headers are given). */
  api: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;
  /** The port base: the normalizer runs on base + 2 (the brief's order: collector 1 ... segmenter 5). */
  portBase: number;
  /** Stops the normalizer and starts it again on its port (a restart), doing `between` while it is down. */
  restart: (between?: () => Promise<void>) => Promise<void>;
  /** Runs a test body; a failure carries the services' recent warnings and errors. */
  withLogs: (run: () => Promise<void>) => Promise<void>;
  stop: () => Promise<void>;
}

export interface NormalizerStackOptions {
  /** Before the normalizer starts: seed its database (settings, plans). */
  seed?: (mongo: MongoClient) => Promise<void>;
  portBase?: number;
  /** More environment for the normalizer (e.g. CDP_PII_ENCRYPTION_KEY). */
  env?: Record<string, string>;
}

/** Starts the normalizer in `scope` (a `testScope` of the spec, whose ids it may use for workspaces). */
export async function startNormalizerStack(scope: TestScope, options: NormalizerStackOptions = {}): Promise<NormalizerStack> {
  const portBase = options.portBase ?? randomPortBase();
  const port = portBase + 2;
  const topic = (def: TopicDef<unknown>): string => `${scope.namespace}${def.name}`;
  const rawTopic = topic(Topics.rawEvents);
  const env = { ...scope.env, ...options.env };
  const { kafkaBrokers, registryUrl } = stackEndpoints();
  const mongo = await new MongoClient(scope.mongoUrl).connect();
  let producer: Producer | undefined;
  let normalizer: RunningService | undefined;
  let normalized: TopicReader<NormalizedEvent> | undefined;
  let dlq: TopicReader<DeadLetter> | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([normalized?.stop(), dlq?.stop(), producer?.disconnect()]);
    await normalizer?.stop();
    await mongo.db().dropDatabase();
    await mongo.close();
  };
  try {
    await options.seed?.(mongo);
    normalizer = await startService('normalizer', port, env);
    const rawCodec: TopicCodec<RawEvent> = await AvroSerde.connect(registryUrl).codec(Topics.rawEvents, rawTopic);
    producer = new Kafka({
      brokers: kafkaBrokers.split(','),
      clientId: `normalizer-test-${scope.id}`,
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    normalized = await new TopicReader<NormalizedEvent>(topic(Topics.normalizedEvents)).start();
    dlq = await new TopicReader<DeadLetter>(topic(Topics.deadLetters)).start();
    const p = producer;
    const stack: NormalizerStack = {
      scope,
      normalizer,
      services: [normalizer],
      rawTopic,
      portBase,
      normalized,
      dlq,
      mongo,
      topic,
      avro: (workspaceId, messageId, message) =>
        rawCodec.encode({
          workspaceId,
          sourceId: null,
          messageId,
          type: String(message['type']),
          receivedAt: Date.now(),
          payload: JSON.stringify(message),
        }),
      send: async (key, ...values) => {
        await p.send({ topic: rawTopic, acks: -1, messages: values.map((value) => ({ key, value })) });
      },
      sendJson: async (key, message) => {
        await p.send({ topic: rawTopic, acks: -1, messages: [{ key, value: Buffer.from(JSON.stringify(message)) }] });
      },
      api: (method, path, body, headers = AUTH) =>
        fetch(`${stack.normalizer.url}${path}`, {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      restart: async (between) => {
        await stack.normalizer.stop();
        await between?.();
        stack.normalizer = normalizer = await startService('normalizer', port, env);
        stack.services[0] = stack.normalizer;
      },
      withLogs: (run) => withServiceLogs(() => stack.services, run),
      stop,
    };
    return stack;
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/** The body of an answer with the expected status (else a failure naming what came instead). */
export async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The normalizer's /metrics text. */
export const metricsOf = async (service: RunningService): Promise<string> => (await fetch(`${service.url}/metrics`)).text();
