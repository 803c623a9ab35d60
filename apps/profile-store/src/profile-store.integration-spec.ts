import { type Consumer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { erasureHash } from '@cdp/profile-model';
import {
  Topics,
  recordKey,
  type IdentityMerge,
  type IdentityRemoval,
  type ResolvedEvent,
  type SegmentChange,
  type SegmentDefinition,
  type TopicDef,
} from '@cdp/contracts';
import { testScope, waitFor } from '@cdp/testing';
import {
  AUTH,
  DEMO_WS,
  randomPortBase,
  resolvedEvent,
  startProfileStoreStack,
  type ProfileStoreStack,
} from './testing/profile-store-stack';

/**
 * The built profile-store on the real stack: Avro records in on its input topics, the Profile
 * API and cdp.profiles.changes.v1 out.
 */
const scope = testScope('profiles');
const WS = DEMO_WS;
const auth = AUTH;

let stack: ProfileStoreStack;
/** Keys of null-valued records on the changes topic (TopicReader skips them), with their offsets. */
const tombstones: { key: string; partition: number; offset: string }[] = [];
let tombstoneConsumer: Consumer;

beforeAll(async () => {
  stack = await startProfileStoreStack(scope, { port: randomPortBase() + 4, clientId: 'profile-store-it', readChanges: true });
  tombstoneConsumer = stack.kafka.consumer({ groupId: `${scope.namespace}tombstones`, maxWaitTimeInMs: 50 });
  await tombstoneConsumer.connect();
  await tombstoneConsumer.subscribe({ topic: stack.topic(Topics.profileChanges), fromBeginning: true });
  await tombstoneConsumer.run({
    eachMessage: async ({ message, partition }) => {
      if (message.value === null) tombstones.push({ key: message.key?.toString('utf8') ?? '', partition, offset: message.offset });
    },
  });
}, 120_000);

afterAll(async () => {
  await tombstoneConsumer?.disconnect();
  await stack?.stop();
});

/** On failure, the service's warnings and errors. */
const withLogs = (run: () => Promise<void>): Promise<void> => stack.withLogs(run);
const produce = <T>(def: TopicDef<T>, key: string, values: (T | null)[]): Promise<void> => stack.produce(def, key, values);

let seq = 0;
const event = (profileId: string, over: Partial<ResolvedEvent> = {}): ResolvedEvent =>
  resolvedEvent({ workspaceId: WS, profileId, messageId: `m-${scope.id}-${++seq}`, timestamp: 1_000, receivedAt: 2_000, ...over });

const sendEvents = (profileId: string, events: ResolvedEvent[]) => stack.sendEvents(profileId, events);

interface ProfileBody {
  profileId: string;
  traits: Record<string, unknown>;
  stats: { eventCount: number };
  accounts: { groupId: string; traits: Record<string, unknown>; firstSeen: string; lastSeen: string }[];
}

const get = (path: string) => fetch(`${stack.service.url}/v1/profiles/${path}`, { headers: auth });

/** The profile once `ready` holds for it. */
/** A merge record as the identity-resolver writes it. */
const mergeOf = (fromProfileId: string, intoProfileId: string, mergeId: string, mergedAt = 6_000): IdentityMerge => ({
  workspaceId: WS,
  mergeId,
  fromProfileId,
  intoProfileId,
  reason: 'shared identifier',
  identifiers: [],
  score: null,
  messageId: null,
  mergedAt,
  receivedAt: null,
});

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

it('answers every time of a profile in ISO 8601: its identifiers, stats and accounts', () =>
  withLogs(async () => {
    const p = pid('iso');
    const userId = { type: 'user_id', value: pid('iso-user') };
    await sendEvents(p, [event(p, { timestamp: 1_000, identifiers: [userId] }), event(p, { timestamp: 3_000, identifiers: [userId] })]);
    const profile = (await profileWhen(p, (b) => b.stats.eventCount === 2, 'both events applied')) as ProfileBody & {
      identifiers: unknown[];
      stats: { firstSeen: string; lastSeen: string };
    };
    const [first, last] = [new Date(1_000).toISOString(), new Date(3_000).toISOString()];
    expect(profile.identifiers).toEqual([{ ...userId, firstSeen: first, lastSeen: last }]);
    expect(profile.stats).toMatchObject({ firstSeen: first, lastSeen: last });
    expect(((await (await get(`${p}/identities`)).json()) as { identifiers: unknown[] }).identifiers).toEqual(profile.identifiers);
  }));

it("keeps a group call's group as an account of the person, not as the person's traits", () =>
  withLogs(async () => {
    const p = pid('group');
    await sendEvents(p, [
      event(p, { timestamp: 1_000, traits: '{"name":"Jane","email":"jane@acme.com"}' }),
      event(p, { type: 'group', groupId: 'acme', timestamp: 2_000, traits: '{"name":"Acme Inc","email":"billing@acme.com"}' }),
    ]);
    const profile = await profileWhen(p, (b) => b.stats.eventCount === 2, 'both events applied');
    expect(profile.traits).toEqual({ name: 'Jane', email: 'jane@acme.com' });
    expect(profile.accounts).toEqual([
      {
        groupId: 'acme',
        traits: { name: 'Acme Inc', email: 'billing@acme.com' },
        firstSeen: new Date(2_000).toISOString(),
        lastSeen: new Date(2_000).toISOString(),
      },
    ]);
  }));

it('keeps the built-in computed traits on the profile and in its changes', () =>
  withLogs(async () => {
    const p = pid('computed');
    const order = (properties: string, timestamp: number) => event(p, { type: 'track', event: 'Order Completed', properties, timestamp });
    await sendEvents(p, [order('{"revenue":10.25,"total":99}', 5_000), order('{"total":20}', 1_000), event(p, { timestamp: 3_000 })]);
    const res = await profileWhen(p, (b) => b.stats.eventCount === 3, 'the three events');
    const expected = { first_seen: '1970-01-01T00:00:01.000Z', last_seen: '1970-01-01T00:00:05.000Z', event_count: 3, revenue: 30.25 };
    expect((res as ProfileBody & { computedTraits: unknown }).computedTraits).toEqual(expected);
    const last = await stack.changes.waitForRecord((c) => c.profileId === p && c.version === 3, 'the third change');
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

it('counts an event once when a redelivery names another profile, also after the two merge', () =>
  withLogs(async () => {
    // The identity-resolver, redelivered after a crash, can resolve an event again to another
    // profile: two copies on two keys (so two partitions), handled at the same time.
    const first = pid('owner-a');
    const second = pid('owner-b');
    const shared = event(first, { type: 'track', event: 'Viewed' });
    await Promise.all([sendEvents(first, [event(first), shared]), sendEvents(second, [event(second), { ...shared, profileId: second }])]);
    const count = async (id: string) => ((await (await get(id)).json()) as ProfileBody).stats.eventCount;
    await waitFor(async () => (await count(first)) + (await count(second)) >= 3 || undefined, 'the three events applied');
    expect((await count(first)) + (await count(second))).toBe(3);
    const merge = mergeOf(first, second, `merge-owner-${scope.id}`);
    await produce(Topics.identityMerges, recordKey(WS, second), [merge]);
    // The merged change comes once the fold is stored (the redirect is written before it).
    await stack.changes.waitForRecord((c) => c.profileId === second && c.change === 'merged', 'the merged change');
    const merged = await profileWhen(first, (b) => b.profileId === second, 'the redirect to the survivor');
    expect(merged.stats.eventCount).toBe(3);
  }));

it('finds a person by a custom identifier type as the identity-resolver names it (crm-id)', () =>
  withLogs(async () => {
    const p = pid('custom-type');
    const value = `C-${scope.id}`;
    await sendEvents(p, [event(p, { identifiers: [{ type: 'crm-id', value }] })]);
    await profileWhen(p, () => true, 'the profile');
    const res = await get(`crm-id:${encodeURIComponent(value)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as ProfileBody).profileId).toBe(p);
    // A bare value is a profile id: the 404 says how to name an identifier, without echoing the value.
    const bare = await get(encodeURIComponent(value));
    expect(bare.status).toBe(404);
    expect(((await bare.json()) as { message: string }).message).toBe(
      'profile not found (read as a profile id; to look up by an identifier write type:value, e.g. user_id:42)',
    );
  }));

it('answers an absorbed id with the survivor and summed counts', () =>
  withLogs(async () => {
    const into = pid('into');
    const from = pid('from');
    await sendEvents(into, [event(into, { traits: '{"a":1}' }), event(into)]);
    await sendEvents(from, [event(from, { timestamp: 5_000, traits: '{"b":2}' })]);
    await profileWhen(into, (b) => b.stats.eventCount === 2, 'the survivor');
    await profileWhen(from, (b) => b.stats.eventCount === 1, 'the absorbed profile');
    const merge = mergeOf(from, into, `merge-${scope.id}`);
    await produce(Topics.identityMerges, recordKey(WS, into), [merge]);
    // The merged change comes once the fold is stored (the redirect is written before it).
    const merged = await stack.changes.waitForRecord((c) => c.profileId === into && c.change === 'merged', 'the merged change');
    expect(merged.value.absorbedProfileIds).toEqual([from]);
    const viaAbsorbed = await profileWhen(from, (b) => b.profileId === into, 'the redirect to the survivor');
    expect(viaAbsorbed.stats.eventCount).toBe(3);
    expect(viaAbsorbed.traits).toEqual({ a: 1, b: 2 });
  }));

it('folds a chunk of merges: a chain in order, independent ones alongside', () =>
  withLogs(async () => {
    const [a, b, c, d, e] = ['chain-a', 'chain-b', 'chain-c', 'solo-d', 'solo-e'].map(pid);
    for (const p of [a, b, c, d, e]) await sendEvents(p, [event(p)]);
    for (const p of [a, b, c, d, e]) await profileWhen(p, (x) => x.stats.eventCount === 1, `profile ${p}`);
    const merge = (from: string, into: string, n: number) => mergeOf(from, into, `merge-chunk-${n}-${scope.id}`, 6_000 + n);
    // One key, so one partition and (usually) one chunk: a into b, then b into c; d into e beside them.
    await produce(Topics.identityMerges, recordKey(WS, c), [merge(a, b, 1), merge(d, e, 2), merge(b, c, 3)]);
    await stack.changes.waitForRecord((x) => x.profileId === c && x.change === 'merged', 'the chain folded into c');
    await stack.changes.waitForRecord((x) => x.profileId === e && x.change === 'merged', 'd folded into e');
    const viaA = await profileWhen(a, (x) => x.profileId === c && x.stats.eventCount === 3, 'a redirected to c with all three events');
    expect(viaA.profileId).toBe(c);
    const viaD = await profileWhen(d, (x) => x.profileId === e, 'd redirected to e');
    expect(viaD.stats.eventCount).toBe(2);
  }));

/** A removal record as the identity-resolver writes it. */
const removalOf = (profileId: string, attachedTo: string, identifier: { type: string; value: string }, n: number): IdentityRemoval => ({
  workspaceId: WS,
  removalId: `rm-${n}-${scope.id}`,
  profileId,
  attachedTo,
  identifier,
  removedAt: Date.now(),
});

const removedChange = (profileId: string, what: string) =>
  stack.changes.waitForRecord(
    (c) =>
      c.profileId === profileId && c.change === 'updated' && c.messageId === null && !c.identifiers.some((i) => i.type === 'anonymous_id'),
    what,
  );

it("takes a removed identifier off its person once, through a merge, and leaves a later person's pointer alone", () =>
  withLogs(async () => {
    const [from, into, later] = ['rm-from', 'rm-into', 'rm-later'].map(pid);
    const kiosk = { type: 'anonymous_id', value: pid('kiosk') };
    const userId = { type: 'user_id', value: pid('user') };
    await sendEvents(from, [event(from, { identifiers: [kiosk] })]);
    await sendEvents(into, [event(into, { identifiers: [userId] })]);
    await profileWhen(from, (b) => b.stats.eventCount === 1, 'the first profile');
    await profileWhen(into, (b) => b.stats.eventCount === 1, 'the second profile');
    await produce(Topics.identityMerges, recordKey(WS, into), [mergeOf(from, into, `merge-rm-${scope.id}`)]);
    await profileWhen(`anonymous_id:${kiosk.value}`, (b) => b.profileId === into, 'the kiosk id leading to the survivor');

    // The resolver names the canonical profile; the pointer was written for the absorbed one.
    const removal = removalOf(into, from, kiosk, 1);
    await produce(Topics.identityRemovals, recordKey(WS, into), [removal]);
    const change = await removedChange(into, 'the change without the kiosk id');
    expect(change.value.identifiers).toEqual([userId]);
    await waitFor(async () => (await get(`anonymous_id:${kiosk.value}`)).status === 404 || undefined, 'the pointer gone', 30_000);
    const identities = (await (await get(`${into}/identities`)).json()) as { identifiers: { type: string }[] };
    expect(identities.identifiers.map((i) => i.type)).toEqual(['user_id']);

    // A later person with the same id, merged into this one: the kiosk id is theirs now, and the
    // same removal delivered again takes neither it nor the pointer.
    await sendEvents(later, [event(later, { identifiers: [kiosk] })]);
    await profileWhen(`anonymous_id:${kiosk.value}`, (b) => b.profileId === later, 'the kiosk id on the later person');
    await produce(Topics.identityMerges, recordKey(WS, into), [mergeOf(later, into, `merge-rm-later-${scope.id}`)]);
    const merged = await stack.changes.waitForRecord(
      (c) => c.profileId === into && c.change === 'merged' && c.version > change.value.version,
      'the later merge',
    );
    await produce(Topics.identityRemovals, recordKey(WS, into), [removal]);
    // Re-emitted with the state as it is (a change lost in a crash comes again), nothing written.
    const again = await stack.changes.waitForRecord(
      (c) => c.profileId === into && c.change === 'updated' && c.version === merged.value.version,
      'the redelivered removal',
    );
    expect(again.value.identifiers).toEqual(expect.arrayContaining([kiosk, userId]));
    expect(((await (await get(`anonymous_id:${kiosk.value}`)).json()) as ProfileBody).profileId).toBe(into);
  }));

it('takes a removed identifier off the profile it was attached to when their merge comes after the removal', () =>
  withLogs(async () => {
    const [from, into] = ['rm-early-from', 'rm-early-into'].map(pid);
    const kiosk = { type: 'anonymous_id', value: pid('early-kiosk') };
    await sendEvents(from, [event(from, { identifiers: [kiosk] })]);
    await sendEvents(into, [event(into, { identifiers: [{ type: 'user_id', value: pid('early-user') }] })]);
    await profileWhen(from, (b) => b.stats.eventCount === 1, 'the first profile');
    await profileWhen(into, (b) => b.stats.eventCount === 1, 'the second profile');
    // The resolver merged them and then removed the id; the merge record is still on its way here.
    await produce(Topics.identityRemovals, recordKey(WS, into), [removalOf(into, from, kiosk, 3)]);
    await removedChange(from, 'the kiosk id off the profile it was attached to');
    await waitFor(async () => (await get(`anonymous_id:${kiosk.value}`)).status === 404 || undefined, 'the pointer gone', 30_000);
    await produce(Topics.identityMerges, recordKey(WS, into), [mergeOf(from, into, `merge-rm-early-${scope.id}`)]);
    const merged = await stack.changes.waitForRecord((c) => c.profileId === into && c.change === 'merged', 'the merge');
    expect(merged.value.identifiers.map((i) => i.type)).toEqual(['user_id']);
  }));

it('keeps a removed identifier off against an event resolved before the removal and applied after it', () =>
  withLogs(async () => {
    const p = pid('rm-backlog');
    const kiosk = { type: 'anonymous_id', value: pid('backlog-kiosk') };
    await sendEvents(p, [event(p, { identifiers: [kiosk], receivedAt: 1_000 })]);
    await profileWhen(p, (b) => b.stats.eventCount === 1, 'the profile');
    await produce(Topics.identityRemovals, recordKey(WS, p), [{ ...removalOf(p, p, kiosk, 6), removedAt: 5_000 }]);
    await removedChange(p, 'the removal');
    // Received (and resolved) before the removal, applied after it: a backlog.
    await sendEvents(p, [event(p, { identifiers: [kiosk], receivedAt: 4_000 })]);
    const after = (await profileWhen(p, (b) => b.stats.eventCount === 2, 'the late event')) as ProfileBody & {
      identifiers: { type: string }[];
    };
    expect(after.identifiers).toEqual([]);
    expect((await get(`anonymous_id:${kiosk.value}`)).status).toBe(404);
  }));

it('drops the pointer when a removal is delivered again after a crash between the profile write and the pointer', () =>
  withLogs(async () => {
    const p = pid('rm-crash');
    const kiosk = { type: 'anonymous_id', value: pid('crash-kiosk') };
    await sendEvents(p, [event(p, { identifiers: [kiosk] })]);
    await profileWhen(p, (b) => b.stats.eventCount === 1, 'the profile');
    const removal = removalOf(p, p, kiosk, 7);
    await produce(Topics.identityRemovals, recordKey(WS, p), [removal]);
    await removedChange(p, 'the removal');
    await waitFor(async () => (await get(`anonymous_id:${kiosk.value}`)).status === 404 || undefined, 'the pointer gone', 30_000);
    // As a crash after the profile write would leave it: the pointer still there.
    const mongo = await new MongoClient(scope.mongoUrl).connect();
    try {
      const idKey = `${kiosk.type}:${kiosk.value}`;
      await mongo
        .db()
        .collection<{ _id: string } & Record<string, unknown>>('profile_identifiers')
        .insertOne({ _id: `${encodeURIComponent(WS)}:${encodeURIComponent(idKey)}`, workspaceId: WS, idKey, profileId: p });
    } finally {
      await mongo.close();
    }
    expect((await get(`anonymous_id:${kiosk.value}`)).status).toBe(200);
    await produce(Topics.identityRemovals, recordKey(WS, p), [removal]);
    await waitFor(async () => (await get(`anonymous_id:${kiosk.value}`)).status === 404 || undefined, 'the pointer gone again', 30_000);
  }));

it("leaves a person being erased alone: a removal in the eraser's window writes and emits nothing", () =>
  withLogs(async () => {
    const p = pid('rm-erasing');
    const kiosk = { type: 'anonymous_id', value: pid('erasing-kiosk') };
    await sendEvents(p, [event(p, { identifiers: [kiosk] })]);
    await profileWhen(p, (b) => b.stats.eventCount === 1, 'the profile');
    // As the eraser leaves it between the tombstone and deleting the profile document.
    const mongo = await new MongoClient(scope.mongoUrl).connect();
    try {
      const hash = erasureHash(WS, { kind: 'profile', profileId: p });
      await mongo
        .db()
        .collection<{ _id: string } & Record<string, unknown>>('profile_erasures')
        .insertOne({ _id: `${WS}:${hash}`, workspaceId: WS, hash, erasedAt: Date.now(), until: Date.now() + 86_400_000 });
    } finally {
      await mongo.close();
    }
    await produce(Topics.identityRemovals, recordKey(WS, p), [removalOf(p, p, kiosk, 4)]);
    // A later removal on the same partition shows the first one was handled.
    const [other, otherKiosk] = [pid('rm-after-erasing'), { type: 'anonymous_id', value: pid('after-erasing-kiosk') }];
    await sendEvents(other, [event(other, { identifiers: [otherKiosk] })]);
    await profileWhen(other, (b) => b.stats.eventCount === 1, 'the other profile');
    await produce(Topics.identityRemovals, recordKey(WS, p), [removalOf(other, other, otherKiosk, 5)]);
    await removedChange(other, 'the removal after it');
    expect(
      stack.changes.records.filter((r) => r.value.profileId === p && r.value.change === 'updated' && r.value.messageId === null),
    ).toEqual([]);
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
      segmentVersion: null,
      identifiers: [],
      traits: null,
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

it("shows a segment under its current name from cdp.segments.definitions.v1; a deleted one under its last transition's", () =>
  withLogs(async () => {
    const p = pid('seg-names');
    await sendEvents(p, [event(p)]);
    await profileWhen(p, () => true, 'the profile');
    const [renamed, deleted, unknown] = ['n1', 'n2', 'n3'].map((s) => `${s}-${scope.id}`) as [string, string, string];
    const entered = (segmentId: string): SegmentChange => ({
      workspaceId: WS,
      segmentId,
      segmentName: `Before ${segmentId}`,
      profileId: p,
      change: 'entered',
      membershipVersion: 1,
      occurredAt: 10_000,
      profileVersion: null,
      receivedAt: null,
      segmentVersion: 1,
      identifiers: [],
      traits: null,
    });
    await produce(Topics.segmentChanges, recordKey(WS, p), [entered(renamed), entered(deleted), entered(unknown)]);
    const definition = (segmentId: string, name: string, version: number): SegmentDefinition => ({
      workspaceId: WS,
      segmentId,
      name,
      version,
      definition: "trait('plan') = 'pro'",
      computedTraitsRead: [],
      outputTraits: [],
      outputTopic: null,
      updatedAt: 20_000 + version,
    });
    // Renamed twice, then the first name again at an older version (a late repair): the newest stays.
    await produce(Topics.segmentDefinitions, recordKey(WS, renamed), [
      definition(renamed, 'Middle', 2),
      definition(renamed, 'After', 3),
      definition(renamed, 'Middle', 2),
    ]);
    // Deleted: a record after its tombstone does not bring its name back.
    await produce(Topics.segmentDefinitions, recordKey(WS, deleted), [
      definition(deleted, 'Gone', 2),
      null,
      definition(deleted, 'Gone', 3),
    ]);
    const names = async (path: string, pick: (b: never) => { segmentId: string; segmentName: string }[]) =>
      pick((await (await get(`${encodeURIComponent(p)}${path}`)).json()) as never).map((s) => [s.segmentId, s.segmentName]);
    const expected = [
      [renamed, 'After'],
      [deleted, `Before ${deleted}`],
      [unknown, `Before ${unknown}`],
    ];
    await waitFor(
      async () => JSON.stringify(await names('/segments', (b: { segments: [] }) => b.segments)) === JSON.stringify(expected) || undefined,
      'the current names on /segments',
      30_000,
    );
    expect(await names('/export', (b: { segments: [] }) => b.segments)).toEqual(expected);
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

    const res = await fetch(`${stack.service.url}/v1/profiles/email:${encodeURIComponent(email)}`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ profileId: p, erased: true });

    for (const id of [p, old, `email:${email}`]) expect((await get(encodeURIComponent(id))).status).toBe(404);
    expect((await get(`${encodeURIComponent(p)}/events`)).status).toBe(404);
    const again = await fetch(`${stack.service.url}/v1/profiles/${encodeURIComponent(p)}`, { method: 'DELETE', headers: auth });
    expect(again.status).toBe(404);

    const deleted = await stack.changes.waitForRecord((c) => c.profileId === p && c.change === 'deleted', 'the deleted change');
    expect(deleted.key).toBe(`${WS}:${p}`);
    expect(deleted.value).toMatchObject({ traits: '{}', identifiers: [] });
    const lastVersion = Math.max(
      ...stack.changes.records.filter((r) => r.value.profileId === p && r.value.change !== 'deleted').map((r) => r.value.version),
    );
    expect(deleted.value.version).toBeGreaterThan(lastVersion);
    await stack.changes.waitForRecord((c) => c.profileId === old && c.change === 'deleted', 'the absorbed id deleted too');
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

it('answers only the traits /traits?include= names, plain or verbose; an unknown name is absent', () =>
  withLogs(async () => {
    const p = pid('include');
    await sendEvents(p, [event(p, { traits: '{"plan":"pro","country":"DE","age":42}', timestamp: 1_000 })]);
    await profileWhen(p, (b) => b.stats.eventCount === 1, 'the event applied');
    const traits = async (qs: string) => {
      const res = await get(`${encodeURIComponent(p)}/traits?${qs}`);
      return { status: res.status, body: (await res.json()) as { profileId?: string; traits?: unknown; message?: unknown } };
    };
    expect(await traits('include=plan,%20age,missing,constructor')).toEqual({
      status: 200,
      body: { profileId: p, traits: { age: 42, plan: 'pro' } },
    });
    expect((await traits('include=plan&verbose=true')).body.traits).toEqual({
      plan: { value: 'pro', updatedAt: new Date(1_000).toISOString(), source: 'src', messageId: expect.any(String) },
    });
    expect((await traits('include=missing')).body.traits).toEqual({});
    for (const [qs, message] of [
      ['include=%20,', /include must name at least one trait/],
      ['include=a&include=b', /include must be one comma-separated list/],
      [`include=${Array.from({ length: 101 }, (_, i) => `t${i}`).join(',')}`, /include names 101 traits; at most 100/],
    ] as const) {
      const res = await traits(qs);
      expect({ qs, status: res.status }).toEqual({ qs, status: 400 });
      expect(JSON.stringify(res.body.message)).toMatch(message);
    }
  }));

it('filters /events by event name (track event, page and screen name) and since/until, paged with the cursor', () =>
  withLogs(async () => {
    const p = pid('events-filter');
    const order = 'Order Completed';
    await sendEvents(p, [
      event(p, { type: 'track', event: order, timestamp: 1_000 }),
      event(p, { type: 'page', name: 'Pricing', timestamp: 2_000 }),
      event(p, { type: 'track', event: order, timestamp: 3_000 }),
      event(p, { type: 'screen', name: order, timestamp: 4_000 }),
      event(p, { type: 'track', event: 'Viewed', timestamp: 5_000 }),
      event(p, { timestamp: 6_000 }),
      event(p, { type: 'track', event: order, timestamp: 7_000 }),
      // A page's stray `event` field is not its name.
      event(p, { type: 'page', event: order, name: 'Home', timestamp: 8_000 }),
    ]);
    type Page = { events?: { type: string; timestamp: string }[]; next?: string | null; message?: unknown };
    const events = async (qs: string): Promise<{ status: number; body: Page }> => {
      const res = await get(`${encodeURIComponent(p)}/events?${qs}`);
      return { status: res.status, body: (await res.json()) as Page };
    };
    await waitFor(async () => ((await events('limit=200')).body.events?.length === 8 ? true : undefined), 'the whole timeline', 30_000);
    /** Event times (seconds) of every page from `qs`, following `next`. */
    const pages = async (qs: string): Promise<number[][]> => {
      const out: number[][] = [];
      let cursor: string | null = null;
      do {
        const res = await events(`${qs}${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(res.status).toBe(200);
        out.push((res.body.events ?? []).map((e) => Date.parse(e.timestamp) / 1_000));
        cursor = res.body.next ?? null;
      } while (cursor !== null && out.length < 10);
      return out;
    };
    const at = (s: number) => encodeURIComponent(new Date(s * 1_000).toISOString());

    expect(await pages(`event=${encodeURIComponent(order)}&limit=2`)).toEqual([
      [7, 4],
      [3, 1],
    ]);
    expect(await pages('event=Pricing')).toEqual([[2]]);
    expect(await pages('event=Home')).toEqual([[8]]);
    expect(await pages('event=identify')).toEqual([[]]);
    // since inclusive, until exclusive; combined with the name and the paging.
    expect(await pages(`event=${encodeURIComponent(order)}&since=${at(3)}&until=${at(7)}&limit=1`)).toEqual([[4], [3]]);
    expect(await pages(`since=${at(3)}&until=${at(6)}&limit=2`)).toEqual([[5, 4], [3]]);
    expect(await pages(`since=${at(7)}`)).toEqual([[8, 7]]);
    expect(await pages(`until=${encodeURIComponent('1970-01-01T01:00:02+01:00')}`)).toEqual([[1]]);

    for (const [qs, message] of [
      ['since=yesterday', /since must be an ISO 8601 date or date-time with a zone/],
      ['until=2026-02-30', /until must be an ISO 8601 date or date-time with a zone/],
      ['since=2026-11-29T20:00:00', /since must be an ISO 8601/],
      [`since=${at(5)}&until=${at(5)}`, /until must be after since/],
      ['event=', /event must not be empty/],
      [`event=${'x'.repeat(201)}`, /event must be at most 200 characters/],
    ] as const) {
      const res = await events(qs);
      expect({ qs, status: res.status }).toEqual({ qs, status: 400 });
      expect(JSON.stringify(res.body.message)).toMatch(message);
    }
    // On its changes, page and screen calls carry the names segments count them by.
    const named = stack.changes.records.filter((c) => c.value.profileId === p).map((c) => c.value.eventName);
    expect(named).toEqual(expect.arrayContaining(['Viewed Pricing Page', `Viewed ${order} Screen`, 'Viewed Home Page', order, 'Viewed']));
  }));

it('describes include, event, since and until as query parameters in its OpenAPI document', async () => {
  const doc = (await (await fetch(`${stack.service.url}/openapi.json`)).json()) as {
    paths: Record<string, { get?: { parameters?: { name: string; in: string; schema?: { format?: string } }[] } }>;
  };
  const query = (path: string) =>
    Object.fromEntries((doc.paths[path]?.get?.parameters ?? []).filter((q) => q.in === 'query').map((q) => [q.name, q.schema]));
  expect(Object.keys(query('/v1/profiles/{id}/traits')).sort()).toEqual(['include', 'verbose']);
  const events = query('/v1/profiles/{id}/events');
  expect(Object.keys(events).sort()).toEqual(['cursor', 'event', 'limit', 'since', 'until']);
  expect([events['since']?.format, events['until']?.format]).toEqual(['date-time', 'date-time']);
});

it('refuses DELETE without a key', async () => {
  const res = await fetch(`${stack.service.url}/v1/profiles/${pid('x')}`, { method: 'DELETE' });
  expect(res.status).toBe(401);
});

it('counts its answers by route pattern and status in /metrics, never by the path (which names a person)', async () => {
  const email = `metrics.${scope.id}@example.com`;
  expect((await get(`email:${email}`)).status).toBe(404);
  expect((await fetch(`${stack.service.url}/v1/profiles/${pid('x')}`, { method: 'DELETE' })).status).toBe(401);
  const metrics = await (await fetch(`${stack.service.url}/metrics`)).text();
  expect(metrics).toMatch(/cdp_http_requests_total\{method="GET",route="\/v1\/profiles\/:id",status="404"[^}]*\} [1-9]/);
  expect(metrics).toMatch(/cdp_http_requests_total\{method="DELETE",route="\/v1\/profiles\/:id",status="401"[^}]*\} [1-9]/);
  expect(metrics).toMatch(/cdp_http_request_duration_seconds_count\{[^}]*method="GET",route="\/v1\/profiles\/:id"[^}]*\} [1-9]/);
  expect(metrics).not.toContain(email);
});

describe('regulations', () => {
  const post = (body: unknown) =>
    fetch(`${stack.service.url}/v1/regulations`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  interface RegulationBody {
    regulationId: string;
    type: string;
    status: string;
    identifierCount: number;
    profilesFound: number;
    profilesErased: number;
  }
  const regulation = async (id: string): Promise<RegulationBody> => {
    const res = await fetch(`${stack.service.url}/v1/regulations/${id}`, { headers: auth });
    expect(res.status).toBe(200);
    return (await res.json()) as RegulationBody;
  };

  it('suppress: later events for the identifier have no effect, and are counted', () =>
    withLogs(async () => {
      const p = pid('suppress');
      const email = `suppress.${scope.id}@example.com`;
      await sendEvents(p, [event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"country":"DE"}' })]);
      await profileWhen(p, () => true, 'the profile');

      const res = await post({ type: 'suppress', identifiers: [{ type: 'email', value: ` ${email.toUpperCase()} ` }] });
      expect(res.status).toBe(202);
      const created = (await res.json()) as RegulationBody;
      expect(created).toMatchObject({ type: 'suppress', status: 'finished', identifierCount: 1, profilesFound: 0 });
      expect(await regulation(created.regulationId)).toMatchObject({ regulationId: created.regulationId, status: 'finished' });

      const marker = pid('after-suppress');
      await produce(Topics.resolvedEvents, recordKey(WS, p), [
        event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"country":"FR"}', timestamp: 9_000 }),
        event(marker),
      ]);
      await profileWhen(marker, () => true, 'the marker event');
      const profile = await profileWhen(p, () => true, 'the profile');
      expect(profile.traits).toEqual({ country: 'DE' });
      expect(profile.stats.eventCount).toBe(1);
      const metrics = await (await fetch(`${stack.service.url}/metrics`)).text();
      expect(metrics).toMatch(/cdp_profile_events_suppressed_total\{reason="regulation"[^}]*\} 1\n/);
    }));

  it('delete: erases the profiles the identifiers resolve to, with a deleted change and a tombstone', () =>
    withLogs(async () => {
      const p = pid('regdelete');
      const email = `regdelete.${scope.id}@example.com`;
      await sendEvents(p, [event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"plan":"pro"}' })]);
      await profileWhen(p, () => true, 'the profile');

      const res = await post({
        type: 'delete',
        identifiers: [
          { type: 'email', value: email },
          { type: 'user_id', value: `nobody-${scope.id}` },
        ],
      });
      expect(res.status).toBe(202);
      const created = (await res.json()) as RegulationBody;
      expect(created).toMatchObject({ type: 'delete', identifierCount: 2, profilesFound: 1 });
      const done = await waitFor(
        async () => {
          const r = await regulation(created.regulationId);
          return r.status === 'finished' ? r : undefined;
        },
        'the regulation finished',
        30_000,
      );
      expect(done.profilesErased).toBe(1);
      expect((await get(encodeURIComponent(p))).status).toBe(404);
      expect((await get(`email:${encodeURIComponent(email)}`)).status).toBe(404);
      const deleted = await stack.changes.waitForRecord((c) => c.profileId === p && c.change === 'deleted', 'the deleted change');
      const tombstone = await waitFor(() => tombstones.find((t) => t.key === `${WS}:${p}`), 'the tombstone', 30_000);
      expect(BigInt(tombstone.offset)).toBeGreaterThan(BigInt(deleted.offset));
    }));

  it('refuses invalid requests with a 400 and a message, and unknown ids with a 404', () =>
    withLogs(async () => {
      const cases: [unknown, RegExp][] = [
        [{ type: 'forget', identifiers: [{ type: 'email', value: 'a@b.c' }] }, /type must be one of/],
        [{ type: 'suppress', identifiers: [] }, /must not be empty/],
        [{ type: 'suppress', identifiers: [{ type: 'Email!', value: 'x' }] }, /identifier type/],
        [
          {
            type: 'suppress',
            identifiers: [
              { type: 'email', value: 'a@b.c' },
              { type: 'email', value: '  ' },
            ],
          },
          /identifiers\.1\.value \\" {2}\\" \(type \\"email\\"\) is empty once trimmed/,
        ],
        [
          { type: 'delete', identifiers: [{ type: 'mail', value: 'a@b.c' }] },
          /identifiers\.0\.type \\"mail\\" is not an identifier type: did you mean email\?/,
        ],
        [{ type: 'suppress', identifiers: Array.from({ length: 1001 }, (_, i) => ({ type: 'user_id', value: `u${i}` })) }, /at most 1000/],
      ];
      for (const [body, message] of cases) {
        const res = await post(body);
        expect(res.status).toBe(400);
        expect(JSON.stringify(await res.json())).toMatch(message);
      }
      expect((await fetch(`${stack.service.url}/v1/regulations/reg_unknown`, { headers: auth })).status).toBe(404);
      const noKey = { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } };
      expect((await fetch(`${stack.service.url}/v1/regulations`, noKey)).status).toBe(401);
    }));
});

it('exports everything held about a person', () =>
  withLogs(async () => {
    const p = pid('export');
    const email = `export.${scope.id}@example.com`;
    await sendEvents(p, [
      event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"plan":"pro"}', timestamp: 1_000 }),
      event(p, { type: 'track', event: 'Viewed', properties: '{"page":"/a"}', timestamp: 2_000 }),
      event(p, { type: 'track', event: 'Viewed', properties: '{"page":"/b"}', timestamp: 3_000 }),
    ]);
    await profileWhen(p, (b) => b.stats.eventCount === 3, 'the three events');
    await produce(Topics.segmentChanges, recordKey(WS, p), [
      {
        workspaceId: WS,
        segmentId: 'sx',
        segmentName: 'Export segment',
        profileId: p,
        change: 'entered',
        membershipVersion: 1,
        occurredAt: 5_000,
        profileVersion: null,
        receivedAt: null,
        segmentVersion: null,
        identifiers: [],
        traits: null,
      },
    ]);
    const body = await waitFor(
      async () => {
        const res = await get(`email:${encodeURIComponent(email)}/export`);
        const b = (await res.json()) as {
          profile: ProfileBody;
          traits: Record<string, { value: unknown; source: string }>;
          identifiers: { type: string; value: string }[];
          timeline: { events: { properties: Record<string, unknown> }[]; truncated: boolean };
          segments: { segmentId: string; member: boolean }[];
        };
        return b.segments?.length ? b : undefined;
      },
      'the export with the membership',
      30_000,
    );
    expect(body.profile.profileId).toBe(p);
    expect(body.traits['plan']).toMatchObject({ value: 'pro', source: 'src' });
    expect(body.identifiers).toEqual([expect.objectContaining({ type: 'email', value: email })]);
    expect(body.timeline.truncated).toBe(false);
    expect(body.timeline.events.map((e) => e.properties['page'] ?? null)).toEqual(['/b', '/a', null]);
    expect(body.segments).toEqual([expect.objectContaining({ segmentId: 'sx', member: true })]);
  }));

it('searches profiles by trait equality, paged', () =>
  withLogs(async () => {
    const plan = `plan-${scope.id}`;
    const ids = [pid('search-a'), pid('search-b'), pid('search-c')];
    await sendEvents(ids[0] as string, [event(ids[0] as string, { traits: JSON.stringify({ plan, age: 42 }) })]);
    await sendEvents(ids[1] as string, [event(ids[1] as string, { traits: JSON.stringify({ plan, age: 7 }) })]);
    await sendEvents(ids[2] as string, [event(ids[2] as string, { traits: JSON.stringify({ plan: 'other', age: 42 }) })]);
    for (const id of ids) await profileWhen(id, () => true, 'the profile');

    const search = async (qs: string) => {
      const res = await fetch(`${stack.service.url}/v1/profiles?${qs}`, { headers: auth });
      return { status: res.status, body: (await res.json()) as { profiles: ProfileBody[]; next: string | null; message?: unknown } };
    };
    const first = await search(`trait.plan=${plan}&limit=1`);
    expect(first.status).toBe(200);
    expect(first.body.profiles.map((p) => p.profileId)).toEqual([ids[0]]);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await search(`trait.plan=${plan}&limit=1&cursor=${first.body.next}`);
    expect(second.body).toEqual({ profiles: [expect.objectContaining({ profileId: ids[1] })], next: null });
    // Numbers match their text; conditions are ANDed.
    const both = await search(`trait.plan=${plan}&trait.age=42`);
    expect(both.body.profiles.map((p) => p.profileId)).toEqual([ids[0]]);
    expect((await search(`trait.plan=${plan}&sort=x`)).status).toBe(400);
    expect((await search('limit=5')).status).toBe(400);
    expect((await search(`trait.plan=${plan}&cursor=!!`)).status).toBe(400);

    // The address, sent in parts by separate calls (the later one first), is kept field by field and searched by path.
    const mover = pid('search-address');
    const city = `City ${scope.id}`;
    await sendEvents(mover, [
      event(mover, { messageId: `${mover}-zip`, timestamp: 3_000, traits: JSON.stringify({ address: { postalCode: '20095' } }) }),
      event(mover, { messageId: `${mover}-city`, timestamp: 2_000, traits: JSON.stringify({ address: { city } }) }),
    ]);
    await profileWhen(mover, (b) => b.stats.eventCount >= 2, 'both parts applied');
    const found = await search(`trait.address.city=${encodeURIComponent(city)}&trait.address.postalCode=20095`);
    expect(found.body.profiles.map((p) => [p.profileId, p.traits['address']])).toEqual([[mover, { city, postalCode: '20095' }]]);
    // Searched by the names and the email as the app sent them: found where the normalizer filed them.
    const email = `${scope.id}@example.com`;
    await sendEvents(mover, [event(mover, { messageId: `${mover}-email`, timestamp: 4_000, traits: JSON.stringify({ email }) })]);
    await profileWhen(mover, (b) => b.stats.eventCount >= 3, 'the email applied');
    const byAlias = await search(`trait.zip=20095&trait.E-Mail=${encodeURIComponent(` ${email.toUpperCase()}`)}`);
    expect(byAlias.body.profiles.map((p) => p.profileId)).toEqual([mover]);
  }));

it('serves its OpenAPI document and the docs UI without external assets', async () => {
  const res = await fetch(`${stack.service.url}/openapi.json`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  expect(doc.openapi).toMatch(/^3\./);
  for (const path of ['', '/{id}', '/{id}/traits', '/{id}/events', '/{id}/identities', '/{id}/segments', '/{id}/export'])
    expect(doc.paths[`/v1/profiles${path}`]?.['get']).toBeDefined();
  expect(doc.paths['/v1/profiles/{id}']?.['delete']).toBeDefined();
  expect(doc.paths['/v1/regulations']?.['post']).toBeDefined();
  expect(doc.paths['/v1/regulations/{regulationId}']?.['get']).toBeDefined();
  expect(doc.paths['/v1/computed-traits/{name}']?.['put']).toBeDefined();
  expect(doc.paths['/v1/profile-settings']?.['put']).toBeDefined();
  // Every `{param}` of a path is declared on each of its operations (Swagger UI's "Try it out" fills them in).
  for (const [path, operations] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(operations)) {
      const declared = ((op as { parameters?: { in: string; name: string }[] }).parameters ?? []).filter((p) => p.in === 'path');
      expect({ path, method, params: declared.map((p) => p.name).sort() }).toEqual({
        path,
        method,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort(),
      });
    }
  const ui = await fetch(`${stack.service.url}/docs`);
  expect(ui.status).toBe(200);
  const html = await ui.text();
  expect(html).not.toMatch(/https?:\/\/(?!localhost|127\.0\.0\.1)[^"']*\.(js|css)/);
  const script = /src="([^"]*swagger-ui-bundle\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  expect((await fetch(new URL(script as string, `${stack.service.url}/docs`))).status).toBe(200);
  const slash = await fetch(`${stack.service.url}/docs/`, { redirect: 'manual' });
  expect([slash.status, slash.headers.get('location')]).toEqual([302, '../docs']);
});

describe('user-defined computed traits', () => {
  const put = (name: string, body: unknown) =>
    fetch(`${stack.service.url}/v1/computed-traits/${name}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const defs = {
    orders_30d: { event: 'Order Completed', aggregation: 'count', windowDays: 30 },
    spent: { event: 'Order Completed', aggregation: 'sum', property: 'total' },
    top_color: { event: 'Order Completed', aggregation: 'most_frequent', property: 'color' },
    first_sku: { event: 'Order Completed', aggregation: 'first', property: 'sku' },
  };

  afterAll(async () => {
    for (const name of Object.keys(defs))
      await fetch(`${stack.service.url}/v1/computed-traits/${name}`, { method: 'DELETE', headers: auth });
  });

  it('evaluates them as events are applied and merged, in the profile and its changes', () =>
    withLogs(async () => {
      for (const [name, body] of Object.entries(defs)) expect((await put(name, body)).status).toBe(200);
      const list = (await (await fetch(`${stack.service.url}/v1/computed-traits`, { headers: auth })).json()) as { name: string }[];
      expect(list.map((d) => d.name)).toEqual(expect.arrayContaining(Object.keys(defs)));

      const a = pid('ct-a');
      const b = pid('ct-b');
      const now = Date.now();
      const order = (p: string, props: object, daysAgo: number) =>
        event(p, { type: 'track', event: 'Order Completed', properties: JSON.stringify(props), timestamp: now - daysAgo * 86_400_000 });
      await sendEvents(a, [
        order(a, { total: 10, color: 'red', sku: 'old' }, 40),
        order(a, { total: 20, color: 'blue', sku: 'x' }, 2),
        order(a, { total: 30, color: 'blue', sku: 'y' }, 1),
      ]);
      await sendEvents(b, [order(b, { total: 5, color: 'red', sku: 'z' }, 0)]);
      const expectedA = { orders_30d: 2, spent: 60, top_color: 'blue', first_sku: 'old' };
      const profileA = await profileWhen(a, (p) => p.stats.eventCount === 3, 'the orders of a');
      expect((profileA as ProfileBody & { computedTraits: object }).computedTraits).toMatchObject(expectedA);
      const change = await stack.changes.waitForRecord((c) => c.profileId === a && c.version === 3, 'the third change of a');
      expect(JSON.parse(change.value.computedTraits)).toMatchObject({ ...expectedA, event_count: 3 });
      await profileWhen(b, () => true, 'the profile b');

      await produce(Topics.identityMerges, recordKey(WS, a), [
        {
          workspaceId: WS,
          mergeId: `merge-ct-${scope.id}`,
          fromProfileId: b,
          intoProfileId: a,
          reason: 'test',
          identifiers: [],
          score: null,
          messageId: null,
          mergedAt: now,
          receivedAt: null,
        },
      ]);
      const merged = await stack.changes.waitForRecord((c) => c.profileId === a && c.change === 'merged', 'the merged change');
      expect(JSON.parse(merged.value.computedTraits)).toMatchObject({ orders_30d: 3, spent: 65, top_color: 'blue', first_sku: 'old' });
    }));

  it('validates definitions and deletes them', () =>
    withLogs(async () => {
      const bad: [string, unknown, RegExp][] = [
        ['x', { event: 'E', aggregation: 'median', property: 'p' }, /aggregation must be one of/],
        ['x', { event: 'E', aggregation: 'sum' }, /property must name a top-level event property/],
        ['x', { event: 'E', aggregation: 'count', windowDays: 0 }, /windowDays must be at least 1/],
        ['Bad-Name', { event: 'E', aggregation: 'count' }, /name must be/],
        ['revenue', { event: 'E', aggregation: 'count' }, /built-in/],
        ['x', { event: 'E', aggregation: 'sum', property: 'a.b' }, /property must be a property name as stored: no '\.'/],
        ['x', { event: 'E', aggregation: 'max', property: '$total' }, /not starting with '\$'/],
        ['x', { event: 'E', aggregation: 'count', property: 'total' }, /count takes no property/],
      ];
      for (const [name, body, message] of bad) {
        const res = await put(name, body);
        expect(res.status).toBe(400);
        expect(JSON.stringify(await res.json())).toMatch(message);
      }
      expect((await put('tmp_trait', { event: 'E', aggregation: 'count' })).status).toBe(200);
      const del = await fetch(`${stack.service.url}/v1/computed-traits/tmp_trait`, { method: 'DELETE', headers: auth });
      expect(del.status).toBe(204);
      expect((await fetch(`${stack.service.url}/v1/computed-traits/tmp_trait`, { headers: auth })).status).toBe(404);
    }));

  it('refuses to delete one that a segment reads, until the segment no longer reads it', () =>
    withLogs(async () => {
      const segmentId = `reads-${scope.id}`;
      expect((await put('read_trait', { event: 'E', aggregation: 'count' })).status).toBe(200);
      const definition = (version: number, computedTraitsRead: string[]): SegmentDefinition => ({
        workspaceId: WS,
        segmentId,
        name: 'Frequent',
        version,
        definition: computedTraitsRead.length > 0 ? "computed('read_trait') >= 3" : "trait('plan') = 'pro'",
        computedTraitsRead,
        outputTraits: [],
        outputTopic: null,
        updatedAt: 30_000 + version,
      });
      const remove = (name: string) => fetch(`${stack.service.url}/v1/computed-traits/${name}`, { method: 'DELETE', headers: auth });
      // The segment also reads a trait that does not exist: its DELETE is a 404 until the definition is here, then a 409.
      await produce(Topics.segmentDefinitions, recordKey(WS, segmentId), [definition(1, ['read_trait', 'absent_trait'])]);
      await waitFor(async () => (await remove('absent_trait')).status === 409 || undefined, 'the definition stored', 30_000);
      const refused = await remove('read_trait');
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { message: string }).message).toBe(
        `computed trait read_trait is read by segment Frequent (${segmentId}); change those first`,
      );
      await produce(Topics.segmentDefinitions, recordKey(WS, segmentId), [definition(2, [])]);
      await waitFor(async () => (await remove('read_trait')).status === 204 || undefined, 'the delete once the segment changed', 30_000);

      // A deleted segment (its tombstone) reads nothing any more.
      expect((await put('tomb_trait', { event: 'E', aggregation: 'count' })).status).toBe(200);
      const doomed = `reads-doomed-${scope.id}`;
      await produce(Topics.segmentDefinitions, recordKey(WS, doomed), [
        { ...definition(1, ['tomb_trait', 'absent_trait']), segmentId: doomed },
      ]);
      await waitFor(async () => (await remove('absent_trait')).status === 409 || undefined, 'the doomed definition stored', 30_000);
      expect((await remove('tomb_trait')).status).toBe(409);
      await produce(Topics.segmentDefinitions, recordKey(WS, doomed), [null]);
      await waitFor(async () => (await remove('tomb_trait')).status === 204 || undefined, 'the delete once the segment is gone', 30_000);
    }));
});
