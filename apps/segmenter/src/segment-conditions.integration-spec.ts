import { Kafka, logLevel, type Producer } from 'kafkajs';
import { recordKey, Topics, type ProfileChange, type SegmentChange } from '@cdp/contracts';
import { AvroSerde, type TopicCodec } from '@cdp/kafka';
import { stackEndpoints, startService, testScope, TopicReader, waitFor, type RunningService, withServiceLogs } from '@cdp/testing';

/**
 * The built segmenter on the real stack (Kafka, registry, FerretDB): a between-window segment a
 * profile enters by the timer alone (its order becomes old enough) and another exits by the timer
 * (its order becomes too old); a consent segment entered when consent is granted and left when it
 * is withdrawn; the daily size history kept by the transitions' counters; a per-segment output
 * topic; the published JSON Schema; a `matches` segment entered by a matching profile, and a
 * pattern that could backtrack catastrophically refused with a 400.
 */
const scope = testScope('segconditions');
const PORT = 14_000 + Math.floor(Math.random() * 900) * 10 + 5;
const WS = 'demo';
const auth = { authorization: 'Bearer dev-api-key', 'content-type': 'application/json' };

let service: RunningService;
let reader: TopicReader<SegmentChange>;
let producer: Producer;
let codec: TopicCodec<ProfileChange>;

beforeAll(async () => {
  service = await startService('segmenter', PORT, { ...scope.env, SEGMENT_TIMER_INTERVAL_MS: '200' });
  const { kafkaBrokers, registryUrl } = stackEndpoints();
  codec = await AvroSerde.connect(registryUrl).codec(Topics.profileChanges, `${scope.namespace}${Topics.profileChanges.name}`);
  producer = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'segconditions-it', logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  reader = await new TopicReader<SegmentChange>(`${scope.namespace}${Topics.segmentChanges.name}`).start();
}, 120_000);

afterAll(async () => {
  await reader?.stop();
  await producer?.disconnect();
  await service?.stop();
});

const withLogs = (run: () => Promise<void>): Promise<void> => withServiceLogs(() => [service], run);

const change = (profileId: string, version: number, over: Partial<ProfileChange> = {}): ProfileChange => ({
  workspaceId: WS,
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

const produce = async (...changes: ProfileChange[]): Promise<void> => {
  const messages = await Promise.all(
    changes.map(async (c) => ({ key: recordKey(c.workspaceId, c.profileId), value: await codec.encode(c) })),
  );
  await producer.send({ topic: codec.topic, acks: -1, messages });
};

const createSegment = async (name: string, definition: string): Promise<string> => {
  const res = await fetch(`${service.url}/v1/segments`, { method: 'POST', headers: auth, body: JSON.stringify({ name, definition }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

const recordsOf = (segmentId: string, profileId: string) =>
  reader.records.filter((r) => r.value.segmentId === segmentId && r.value.profileId === profileId).map((r) => r.value);

/** Distinct transitions in membershipVersion order (a redelivery may repeat one). */
const transitions = (segmentId: string, profileId: string) => {
  const byVersion = new Map<number, string>();
  for (const r of recordsOf(segmentId, profileId)) byVersion.set(r.membershipVersion, r.change);
  return [...byVersion.entries()].sort((a, b) => a[0] - b[0]).map(([v, c]) => `${c}#${v}`);
};

const waitForTransition = (segmentId: string, profileId: string, expected: string, timeoutMs = 30_000) =>
  waitFor(
    () => transitions(segmentId, profileId).includes(expected) || undefined,
    `${expected} of ${profileId} in ${segmentId}`,
    timeoutMs,
  );

it('a between-window: entered when an order becomes old enough, exited when it becomes too old, with no new event', () =>
  withLogs(async () => {
    const segmentId = await createSegment('Ordered a minute or two ago', "event('Order Completed').between(2 minutes ago, 1 minute ago)");
    const now = Date.now();
    const order = (profileId: string, ts: number) =>
      change(profileId, 1, { messageId: `o-${profileId}`, eventName: 'Order Completed', eventTimestamp: ts, eventProperties: '{}' });
    // `late` ordered 56 s ago: too recent now, in the window 4 s from now.
    // `early` ordered 116 s ago: in the window now, out of it 4 s from now.
    const late = `p-late-${scope.id}`;
    const early = `p-early-${scope.id}`;
    await produce(order(late, now - 56_000), order(early, now - 116_000));
    await waitForTransition(segmentId, early, 'entered#1');
    const entered = await waitFor(
      () => recordsOf(segmentId, late).find((r) => r.change === 'entered'),
      'the late order entering the window by the timer',
    );
    expect(entered).toMatchObject({ membershipVersion: 1, profileVersion: 1, receivedAt: null });
    expect(entered.occurredAt).toBeGreaterThanOrEqual(now - 56_000 + 60_000);
    const exited = await waitFor(
      () => recordsOf(segmentId, early).find((r) => r.change === 'exited'),
      'the early order leaving the window',
    );
    expect(exited.occurredAt).toBeGreaterThanOrEqual(now - 116_000 + 120_000);
    expect(transitions(segmentId, early)).toEqual(['entered#1', 'exited#2']);
    // `late` stays until its order is two minutes old: the schedule now points at that edge.
    expect(transitions(segmentId, late)).toEqual(['entered#1']);
  }));

it('a consent segment is entered when consent is granted and left when it is withdrawn', () =>
  withLogs(async () => {
    const segmentId = await createSegment('Marketing allowed', "consent('marketing') and trait('country') = 'DE'");
    const p = `p-consent-${scope.id}`;
    const traits = (consent: unknown) => JSON.stringify({ country: 'DE', consent });
    await produce(change(p, 1, { traits: traits({ marketing: false }), changedTraits: ['consent', 'country'] }));
    // Granted through Segment's consent object shape.
    await produce(change(p, 2, { traits: traits({ categoryPreferences: { marketing: true } }), changedTraits: ['consent'] }));
    await waitForTransition(segmentId, p, 'entered#1');
    await produce(change(p, 3, { traits: traits({ marketing: false }), changedTraits: ['consent'] }));
    await waitForTransition(segmentId, p, 'exited#2');
    expect(transitions(segmentId, p)).toEqual(['entered#1', 'exited#2']);
    expect(recordsOf(segmentId, p).find((r) => r.membershipVersion === 1)).toMatchObject({ profileVersion: 2 });

    // The size history: one entry and one exit today, nobody at the end of it.
    const res = await fetch(`${service.url}/v1/segments/${segmentId}/size-history?days=3`, { headers: auth });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { day: string; members: number; entered: number; exited: number }[] };
    expect(items.map((i) => i.day)).toEqual([2, 1, 0].map((d) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10)));
    expect(items[2]).toMatchObject({ members: 0, entered: 1, exited: 1 });
    expect(items[0]).toMatchObject({ members: 0, entered: 0, exited: 0 });
  }));

it('keeps a daily size history from the transitions and answers 400 / 404 for bad requests', () =>
  withLogs(async () => {
    const tier = `t-${scope.id}`;
    const segmentId = await createSegment('Tier', `trait('tier') = '${tier}'`);
    const people = [1, 2, 3].map((i) => `p-size-${i}-${scope.id}`);
    await produce(...people.map((p) => change(p, 1, { traits: JSON.stringify({ tier }), changedTraits: ['tier'] })));
    for (const p of people) await waitForTransition(segmentId, p, 'entered#1');
    await produce(change(people[0] as string, 2, { traits: '{}', changedTraits: ['tier'] }));
    await waitForTransition(segmentId, people[0] as string, 'exited#2');
    const history = async (query: string) => fetch(`${service.url}/v1/segments/${segmentId}/size-history${query}`, { headers: auth });
    const { items } = (await (await history('')).json()) as { items: { members: number; entered: number; exited: number }[] };
    expect(items).toHaveLength(30);
    expect(items[29]).toMatchObject({ members: 2, entered: 3, exited: 1 });
    expect(items[28]).toMatchObject({ members: 0 });
    expect((await history('?days=0')).status).toBe(400);
    expect((await history('?days=abc')).status).toBe(400);
    expect((await fetch(`${service.url}/v1/segments/nope/size-history`, { headers: auth })).status).toBe(404);
  }));

it("also produces a segment's changes on the outputTopic it names, created on save", () =>
  withLogs(async () => {
    const outputTopic = `vip.changes-${scope.id}`;
    const body = { name: 'VIP out', definition: "trait('vip') = true", outputTopic };
    const res = await fetch(`${service.url}/v1/segments`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; outputTopic: string | null };
    expect(created.outputTopic).toBe(outputTopic);
    // The topic exists as soon as the segment is saved: a reader can subscribe before any change.
    const own = await new TopicReader<SegmentChange>(`${scope.namespace}${outputTopic}`).start();
    try {
      const p = `p-out-${scope.id}`;
      await produce(change(p, 1, { traits: JSON.stringify({ vip: true }), changedTraits: ['vip'] }));
      await waitForTransition(created.id, p, 'entered#1');
      const copy = await waitFor(() => own.records.find((r) => r.value.profileId === p), 'the change on the per-segment topic');
      expect(copy.value).toEqual(recordsOf(created.id, p)[0]);
      expect(copy.key).toBe(`${WS}:${p}`);
    } finally {
      await own.stop();
    }
    for (const bad of ['cdp.profiles.changes.v1', 'no spaces', '']) {
      const r = await fetch(`${service.url}/v1/segments`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ ...body, outputTopic: bad }),
      });
      expect(r.status).toBe(400);
    }
  }));

it('a matches segment is entered by a profile whose trait matches the pattern, and a dangerous pattern is refused', () =>
  withLogs(async () => {
    const domain = `acme-${scope.id}`.replace(/[^a-z0-9-]/gi, '');
    const segmentId = await createSegment('Acme staff', `trait('email') matches '@${domain}\\\\.com$' flags 'i'`);
    const staff = `p-match-${scope.id}`;
    const other = `p-nomatch-${scope.id}`;
    const email = (e: string) => ({ traits: JSON.stringify({ email: e }), changedTraits: ['email'] });
    await produce(change(staff, 1, email(`Jo@${domain.toUpperCase()}.COM`)), change(other, 1, email(`jo@${domain}.com.evil.io`)));
    await waitForTransition(segmentId, staff, 'entered#1');
    // `other` (no match at version 1) enters only with a matching email at version 2: same key, same partition, in order.
    await produce(change(other, 2, email(`jo@${domain}.com`)), change(staff, 2, email('jo@example.com')));
    await waitForTransition(segmentId, other, 'entered#1');
    expect(recordsOf(segmentId, other).find((r) => r.change === 'entered')).toMatchObject({ profileVersion: 2 });
    await waitForTransition(segmentId, staff, 'exited#2');

    const refused = await fetch(`${service.url}/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'ReDoS', definition: { op: 'trait', key: 'email', cmp: 'matches', value: '(a+)+$' } }),
    });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { message: string; issues: { path: string }[] };
    expect(body.issues.map((i) => i.path)).toEqual(['$.value']);
    expect(body.message).toContain('backtrack');
    const text = await fetch(`${service.url}/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'ReDoS', definition: "trait('email') matches '.*.*@x'" }),
    });
    expect(text.status).toBe(400);
    expect(((await text.json()) as { offset: number }).offset).toBe(23);
  }));

it('publishes the JSON Schema of the definition AST', () =>
  withLogs(async () => {
    const res = await fetch(`${service.url}/v1/segments/schema`, { headers: auth });
    expect(res.status).toBe(200);
    const schema = (await res.json()) as { $schema: string; definitions: Record<string, unknown> };
    expect(schema.$schema).toContain('draft-07');
    expect(Object.keys(schema.definitions)).toEqual(expect.arrayContaining(['event', 'consent', 'duration']));
  }));
