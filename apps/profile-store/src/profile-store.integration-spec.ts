import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import {
  Topics,
  recordKey,
  type IdentityMerge,
  type ProfileChange,
  type ResolvedEvent,
  type SegmentChange,
  type TopicDef,
} from '@cdp/contracts';
import { AvroSerde } from '@cdp/kafka';
import { stackEndpoints, startService, testScope, TopicReader, waitFor, type RunningService, withServiceLogs } from '@cdp/testing';

/**
 * The built profile-store on the real stack: Avro records in on its input topics, the Profile
 * API and cdp.profiles.changes.v1 out.
 */
const scope = testScope('profiles');
const PORT = 14_000 + Math.floor(Math.random() * 900) * 10 + 4;
const WS = 'demo';
const auth = { authorization: 'Bearer dev-api-key' };
const topic = (def: TopicDef<unknown>): string => `${scope.namespace}${def.name}`;

let service: RunningService;
let producer: Producer;
let serde: AvroSerde;
let changes: TopicReader<ProfileChange>;
/** Keys of null-valued records on the changes topic (TopicReader skips them), with their offsets. */
const tombstones: { key: string; partition: number; offset: string }[] = [];
let tombstoneConsumer: Consumer;

beforeAll(async () => {
  service = await startService('profile-store', PORT, scope.env);
  const { kafkaBrokers, registryUrl } = stackEndpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'profile-store-it', logLevel: logLevel.NOTHING });
  producer = kafka.producer();
  await producer.connect();
  serde = AvroSerde.connect(registryUrl);
  changes = await new TopicReader<ProfileChange>(topic(Topics.profileChanges)).start();
  tombstoneConsumer = kafka.consumer({ groupId: `${scope.namespace}tombstones`, maxWaitTimeInMs: 50 });
  await tombstoneConsumer.connect();
  await tombstoneConsumer.subscribe({ topic: topic(Topics.profileChanges), fromBeginning: true });
  await tombstoneConsumer.run({
    eachMessage: async ({ message, partition }) => {
      if (message.value === null) tombstones.push({ key: message.key?.toString('utf8') ?? '', partition, offset: message.offset });
    },
  });
}, 120_000);

afterAll(async () => {
  await tombstoneConsumer?.disconnect();
  await changes?.stop();
  await producer?.disconnect();
  await service?.stop();
});

/** On failure, the service's warnings and errors. */
const withLogs = (run: () => Promise<void>): Promise<void> => withServiceLogs(() => [service], run);

async function produce<T>(def: TopicDef<T>, key: string, values: T[]): Promise<void> {
  const codec = await serde.codec(def, topic(def));
  const messages = await Promise.all(values.map(async (v) => ({ key, value: await codec.encode(v) })));
  await producer.send({ topic: codec.topic, acks: -1, messages });
}

let seq = 0;
const event = (profileId: string, over: Partial<ResolvedEvent> = {}): ResolvedEvent => ({
  workspaceId: WS,
  profileId,
  identifiers: [],
  sourceId: 'src',
  messageId: `m-${scope.id}-${++seq}`,
  type: 'identify',
  event: null,
  name: null,
  userId: null,
  anonymousId: null,
  groupId: null,
  timestamp: 1_000,
  receivedAt: 2_000,
  traits: '{}',
  properties: '{}',
  context: '{}',
  ...over,
});

const sendEvents = (profileId: string, events: ResolvedEvent[]) => produce(Topics.resolvedEvents, recordKey(WS, profileId), events);

interface ProfileBody {
  profileId: string;
  traits: Record<string, unknown>;
  stats: { eventCount: number };
}

const get = (path: string) => fetch(`${service.url}/v1/profiles/${path}`, { headers: auth });

/** The profile once `ready` holds for it. */
const profileWhen = (id: string, ready: (p: ProfileBody) => boolean, what: string): Promise<ProfileBody> =>
  waitFor(
    async () => {
      const res = await get(encodeURIComponent(id));
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as ProfileBody;
      return ready(body) ? body : undefined;
    },
    what,
    30_000,
  );

const pid = (label: string): string => `${label}-${scope.id}`;

it('keeps the newer trait value when events arrive out of order', () =>
  withLogs(async () => {
    const p = pid('order');
    await sendEvents(p, [
      event(p, { timestamp: 2_000, traits: '{"plan":"pro"}' }),
      event(p, { timestamp: 1_000, traits: '{"plan":"free","name":"Jane"}' }),
    ]);
    const profile = await profileWhen(p, (b) => b.stats.eventCount === 2, 'both events applied');
    expect(profile.traits).toEqual({ plan: 'pro', name: 'Jane' });
  }));

it('keeps the built-in computed traits on the profile and in its changes', () =>
  withLogs(async () => {
    const p = pid('computed');
    const order = (properties: string, timestamp: number) => event(p, { type: 'track', event: 'Order Completed', properties, timestamp });
    await sendEvents(p, [order('{"revenue":10.25,"total":99}', 5_000), order('{"total":20}', 1_000), event(p, { timestamp: 3_000 })]);
    const res = await profileWhen(p, (b) => b.stats.eventCount === 3, 'the three events');
    const expected = { first_seen: '1970-01-01T00:00:01.000Z', last_seen: '1970-01-01T00:00:05.000Z', event_count: 3, revenue: 30.25 };
    expect((res as ProfileBody & { computedTraits: unknown }).computedTraits).toEqual(expected);
    const last = await changes.waitForRecord((c) => c.profileId === p && c.version === 3, 'the third change');
    expect(JSON.parse(last.value.computedTraits)).toEqual(expected);
  }));

it('counts a redelivered event (same messageId) once', () =>
  withLogs(async () => {
    const p = pid('dup');
    const first = event(p, { type: 'track', event: 'Viewed' });
    // The same key keeps the three in order: once the last is applied, the duplicate was seen.
    await sendEvents(p, [first, first, event(p, { type: 'track', event: 'Viewed', timestamp: 3_000 })]);
    const profile = await profileWhen(p, (b) => b.stats.eventCount >= 2, 'the events applied');
    expect(profile.stats.eventCount).toBe(2);
  }));

it('answers an absorbed id with the survivor and summed counts', () =>
  withLogs(async () => {
    const into = pid('into');
    const from = pid('from');
    await sendEvents(into, [event(into, { traits: '{"a":1}' }), event(into)]);
    await sendEvents(from, [event(from, { timestamp: 5_000, traits: '{"b":2}' })]);
    await profileWhen(into, (b) => b.stats.eventCount === 2, 'the survivor');
    await profileWhen(from, (b) => b.stats.eventCount === 1, 'the absorbed profile');
    const merge: IdentityMerge = {
      workspaceId: WS,
      mergeId: `merge-${scope.id}`,
      fromProfileId: from,
      intoProfileId: into,
      reason: 'shared identifier',
      identifiers: [],
      score: null,
      messageId: null,
      mergedAt: 6_000,
      receivedAt: null,
    };
    await produce(Topics.identityMerges, recordKey(WS, into), [merge]);
    const viaAbsorbed = await profileWhen(from, (b) => b.profileId === into, 'the redirect to the survivor');
    expect(viaAbsorbed.stats.eventCount).toBe(3);
    expect(viaAbsorbed.traits).toEqual({ a: 1, b: 2 });
    const merged = await changes.waitForRecord((c) => c.profileId === into && c.change === 'merged', 'the merged change');
    expect(merged.value.absorbedProfileIds).toEqual([from]);
  }));

it('reflects segment changes in /segments, whatever their order', () =>
  withLogs(async () => {
    const p = pid('seg');
    await sendEvents(p, [event(p)]);
    await profileWhen(p, () => true, 'the profile');
    const change = (segmentId: string, c: 'entered' | 'exited', membershipVersion: number): SegmentChange => ({
      workspaceId: WS,
      segmentId,
      segmentName: `Segment ${segmentId}`,
      profileId: p,
      change: c,
      membershipVersion,
      occurredAt: 10_000 + membershipVersion,
      profileVersion: null,
      receivedAt: null,
    });
    // s2: the exit (v2) arrives before the entry it ends (v1), and the entry is redelivered. s3 marks the end.
    await produce(Topics.segmentChanges, recordKey(WS, p), [
      change('s1', 'entered', 1),
      change('s2', 'exited', 2),
      change('s2', 'entered', 1),
      change('s1', 'entered', 1),
      change('s3', 'entered', 1),
    ]);
    const body = await waitFor(
      async () => {
        const res = await get(`${encodeURIComponent(p)}/segments`);
        const b = (await res.json()) as { profileId: string; segments: { segmentId: string; membershipVersion: number }[] };
        return b.segments?.some((s) => s.segmentId === 's3') ? b : undefined;
      },
      'the segment changes applied',
      30_000,
    );
    expect(body.profileId).toBe(p);
    expect(body.segments.map((s) => [s.segmentId, s.membershipVersion])).toEqual([
      ['s1', 1],
      ['s3', 1],
    ]);
  }));

it('erases a person: profile, absorbed ids, timeline; a deleted change then a tombstone; late events stay out', () =>
  withLogs(async () => {
    const p = pid('erase');
    const old = pid('erase-old');
    const email = `erase.${scope.id}@example.com`;
    await sendEvents(p, [event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"country":"DE"}' })]);
    await sendEvents(old, [event(old)]);
    await profileWhen(old, () => true, 'the profile to absorb');
    await produce(Topics.identityMerges, recordKey(WS, p), [
      {
        workspaceId: WS,
        mergeId: `merge-erase-${scope.id}`,
        fromProfileId: old,
        intoProfileId: p,
        reason: 'test',
        identifiers: [],
        score: null,
        messageId: null,
        mergedAt: 2_000,
        receivedAt: null,
      },
    ]);
    await profileWhen(`email:${email}`, (b) => b.profileId === p && b.stats.eventCount === 2, 'the merged profile by email');

    const res = await fetch(`${service.url}/v1/profiles/email:${encodeURIComponent(email)}`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ profileId: p, erased: true });

    for (const id of [p, old, `email:${email}`]) expect((await get(encodeURIComponent(id))).status).toBe(404);
    expect((await get(`${encodeURIComponent(p)}/events`)).status).toBe(404);
    const again = await fetch(`${service.url}/v1/profiles/${encodeURIComponent(p)}`, { method: 'DELETE', headers: auth });
    expect(again.status).toBe(404);

    const deleted = await changes.waitForRecord((c) => c.profileId === p && c.change === 'deleted', 'the deleted change');
    expect(deleted.key).toBe(`${WS}:${p}`);
    expect(deleted.value).toMatchObject({ traits: '{}', identifiers: [] });
    const lastVersion = Math.max(
      ...changes.records.filter((r) => r.value.profileId === p && r.value.change !== 'deleted').map((r) => r.value.version),
    );
    expect(deleted.value.version).toBeGreaterThan(lastVersion);
    await changes.waitForRecord((c) => c.profileId === old && c.change === 'deleted', 'the absorbed id deleted too');
    const tombstone = await waitFor(() => tombstones.find((t) => t.key === `${WS}:${p}`), 'the tombstone', 30_000);
    expect(tombstone.partition).toBe(deleted.partition);
    expect(BigInt(tombstone.offset)).toBeGreaterThan(BigInt(deleted.offset));

    // A late event for the erased email, then a marker on the same key (same partition, so after it).
    const marker = pid('after-erase');
    await produce(Topics.resolvedEvents, recordKey(WS, p), [
      event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"country":"FR"}', timestamp: 9_000 }),
      event(marker),
    ]);
    await profileWhen(marker, () => true, 'the marker event');
    expect((await get(encodeURIComponent(p))).status).toBe(404);
    expect((await get(`email:${encodeURIComponent(email)}`)).status).toBe(404);
  }));

it('refuses DELETE without a key', async () => {
  const res = await fetch(`${service.url}/v1/profiles/${pid('x')}`, { method: 'DELETE' });
  expect(res.status).toBe(401);
});
