import { Kafka, logLevel, type Admin, type IHeaders, type Producer, type RecordMetadata } from 'kafkajs';
import { recordKey, Topics, type ProfileChange, type SegmentChange } from '@cdp/contracts';
import { AvroSerde, type TopicCodec } from '@cdp/kafka';
// Test support, imported only by the integration specs.
import { stackEndpoints, startService, TopicReader, waitFor, withServiceLogs, type RunningService, type TestScope } from '@cdp/testing';

/**
 * The setup the segmenter's integration specs share: the built segmenter in a private scope on the
 * real stack (Kafka, registry, FerretDB), a producer of profile changes (Avro) and a reader of the
 * segment changes, with helpers to create segments and wait for transitions.
 */

/** The demo workspace of a scope's own database. */
export const DEMO_WS = 'demo';
/** The demo API key, for JSON requests. */
export const AUTH = { authorization: 'Bearer dev-api-key', 'content-type': 'application/json' };

/** A port base no other test file picks. */
export const randomPortBase = (): number => 14_000 + Math.floor(Math.random() * 900) * 10;

export interface SegmenterStackOptions {
  port: number;
  clientId: string;
  /** A redelivery must repeat the change it caused: `transitions` asserts so. */
  checkRepeats?: boolean;
  /** The spec's assertion, `(actual, expected) => expect(actual).toBe(expected)` (jest globals are the spec's, not the build's). */
  check: (actual: unknown, expected: unknown) => void;
}

export interface SegmenterStack {
  scope: TestScope;
  /** The running segmenter (replaced by `restart`). */
  service: RunningService;
  reader: TopicReader<SegmentChange>;
  /** Profile changes on the scope's input topic, keyed by profile (headers on every record); where they landed. */
  produce: (changes: ProfileChange[], headers?: IHeaders) => Promise<RecordMetadata[]>;
  createSegment: (name: string, definition: string, outputTraits?: string[]) => Promise<string>;
  /** The segment changes of one profile in one segment. */
  recordsOf: (segmentId: string, profileId: string) => SegmentChange[];
  /** Distinct transitions in membershipVersion order (a redelivery may repeat one). */
  transitions: (segmentId: string, profileId: string) => string[];
  waitForTransition: (segmentId: string, profileId: string, expected: string, timeoutMs?: number) => Promise<true>;
  /** Stops the segmenter and starts it again (on `port`, else its own), running `whileStopped` in between. */
  restart: (port?: number, whileStopped?: (admin: Admin, groupId: string) => Promise<void>) => Promise<void>;
  /** On failure, the service's warnings and errors. */
  withLogs: (run: () => Promise<void>) => Promise<void>;
  stop: () => Promise<void>;
}

/** A profile change of the demo workspace: version 1 is `created`, later ones `updated`. */
export const profileChange = (profileId: string, version: number, over: Partial<ProfileChange> = {}): ProfileChange => ({
  workspaceId: DEMO_WS,
  profileId,
  version,
  change: version === 1 ? 'created' : 'updated',
  changedAt: Date.now(),
  changedTraits: [],
  traits: '{}',
  computedTraits: '{}',
  identifiers: [{ type: 'user_id', value: profileId }],
  absorbedProfileIds: [],
  messageId: `m-${profileId}-${version}`,
  eventName: null,
  eventTimestamp: null,
  eventProperties: null,
  receivedAt: null,
  ...over,
});

/** Starts the segmenter (timer every 200 ms, stalled backfills resumed after 1 s) in `scope`, with its producer and reader. */
export async function startSegmenterStack(scope: TestScope, options: SegmenterStackOptions): Promise<SegmenterStack> {
  const env = { ...scope.env, SEGMENT_TIMER_INTERVAL_MS: '200', SEGMENT_BACKFILL_STALE_MS: '1000' };
  let service: RunningService | undefined;
  let producer: Producer | undefined;
  let reader: TopicReader<SegmentChange> | undefined;
  try {
    service = await startService('segmenter', options.port, env);
    const { kafkaBrokers, registryUrl } = stackEndpoints();
    const codec: TopicCodec<ProfileChange> = await AvroSerde.connect(registryUrl).codec(
      Topics.profileChanges,
      `${scope.namespace}${Topics.profileChanges.name}`,
    );
    const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: options.clientId, logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    reader = await new TopicReader<SegmentChange>(`${scope.namespace}${Topics.segmentChanges.name}`).start();
    const p = producer;
    const r = reader;
    const recordsOf = (segmentId: string, profileId: string): SegmentChange[] =>
      r.records.filter((c) => c.value.segmentId === segmentId && c.value.profileId === profileId).map((c) => c.value);
    const transitions = (segmentId: string, profileId: string): string[] => {
      const byVersion = new Map<number, string>();
      for (const c of recordsOf(segmentId, profileId)) {
        const seen = byVersion.get(c.membershipVersion);
        if (options.checkRepeats && seen !== undefined) options.check(seen, c.change);
        byVersion.set(c.membershipVersion, c.change);
      }
      return [...byVersion.entries()].sort((a, b) => a[0] - b[0]).map(([v, c]) => `${c}#${v}`);
    };
    const s: SegmenterStack = {
      scope,
      service,
      reader: r,
      produce: async (changes, headers) => {
        const messages = await Promise.all(
          changes.map(async (c) => ({
            key: recordKey(c.workspaceId, c.profileId),
            value: await codec.encode(c),
            ...(headers === undefined ? {} : { headers }),
          })),
        );
        return p.send({ topic: codec.topic, acks: -1, messages });
      },
      createSegment: async (name, definition, outputTraits) => {
        const body = JSON.stringify({ name, definition, outputTraits });
        const res = await fetch(`${s.service.url}/v1/segments`, { method: 'POST', headers: AUTH, body });
        options.check(res.status, 201);
        return ((await res.json()) as { id: string }).id;
      },
      recordsOf,
      transitions,
      waitForTransition: (segmentId, profileId, expected, timeoutMs = 30_000) =>
        waitFor(
          () => transitions(segmentId, profileId).includes(expected) || undefined,
          `${expected} of ${profileId} in ${segmentId}`,
          timeoutMs,
        ),
      restart: async (port = options.port, whileStopped) => {
        await s.service.stop();
        if (whileStopped) {
          const admin = kafka.admin();
          await admin.connect();
          try {
            await whileStopped(admin, `${scope.namespace}cdp.segmenter`);
          } finally {
            await admin.disconnect();
          }
        }
        s.service = await startService('segmenter', port, env);
      },
      withLogs: (run) => withServiceLogs(() => [s.service], run),
      stop: async () => {
        await r.stop();
        await p.disconnect();
        await s.service.stop();
      },
    };
    return s;
  } catch (e) {
    await reader?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    throw e;
  }
}
