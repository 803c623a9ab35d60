import { Topics, type DeadLetter, type ProfileChange, type SegmentChange } from '@cdp/contracts';
import { testScope, TopicReader, waitFor } from '@cdp/testing';
import { AUTH, DEMO_WS, profileChange, randomPortBase, startSegmenterStack, type SegmenterStack } from './testing/segmenter-stack';

/**
 * The built segmenter on the real stack (Kafka, registry, FerretDB): a between-window segment a
 * profile enters by the timer alone (its order becomes old enough) and another exits by the timer
 * (its order becomes too old); a consent segment entered when consent is granted and left when it
 * is withdrawn; the daily size history kept by the transitions' counters; a per-segment output
 * topic; the published JSON Schema; a `matches` segment entered by a matching profile, and a
 * pattern that could backtrack catastrophically refused with a 400; a computed-trait segment entered
 * and exited as the computed trait moves (and a bad computedTraits dead-lettered).
 */
const scope = testScope('segconditions');
const WS = DEMO_WS;
const auth = AUTH;

let stack: SegmenterStack;
const check = (actual: unknown, expected: unknown): void => {
  expect(actual).toBe(expected);
};

beforeAll(async () => {
  stack = await startSegmenterStack(scope, { port: randomPortBase() + 5, clientId: 'segconditions-it', check });
}, 120_000);

afterAll(() => stack?.stop());

const withLogs = (run: () => Promise<void>): Promise<void> => stack.withLogs(run);
const change = profileChange;
const produce = async (...changes: ProfileChange[]): Promise<void> => void (await stack.produce(changes));
const createSegment = (name: string, definition: string): Promise<string> => stack.createSegment(name, definition);
const recordsOf = (segmentId: string, profileId: string) => stack.recordsOf(segmentId, profileId);
const transitions = (segmentId: string, profileId: string) => stack.transitions(segmentId, profileId);
const waitForTransition = (segmentId: string, profileId: string, expected: string, timeoutMs?: number) =>
  stack.waitForTransition(segmentId, profileId, expected, timeoutMs);

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

    // The size history: one entry and one exit today, nobody at the end of it; no day before it was created.
    const res = await fetch(`${stack.service.url}/v1/segments/${segmentId}/size-history?days=3`, { headers: auth });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { day: string; members: number; entered: number; exited: number }[] };
    expect(items).toEqual([{ day: new Date().toISOString().slice(0, 10), members: 0, entered: 1, exited: 1 }]);
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
    const history = async (query: string) => fetch(`${stack.service.url}/v1/segments/${segmentId}/size-history${query}`, { headers: auth });
    const { items } = (await (await history('')).json()) as { items: { members: number; entered: number; exited: number }[] };
    // Created today: one day.
    expect(items).toEqual([expect.objectContaining({ members: 2, entered: 3, exited: 1 })]);
    expect((await history('?days=0')).status).toBe(400);
    expect((await history('?days=abc')).status).toBe(400);
    expect((await fetch(`${stack.service.url}/v1/segments/nope/size-history`, { headers: auth })).status).toBe(404);
  }));

it("also produces a segment's changes on the outputTopic it names, created on save", () =>
  withLogs(async () => {
    const outputTopic = `vip.changes-${scope.id}`;
    const body = { name: 'VIP out', definition: "trait('vip') = true", outputTopic };
    const res = await fetch(`${stack.service.url}/v1/segments`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
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
      const r = await fetch(`${stack.service.url}/v1/segments`, {
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

    const refused = await fetch(`${stack.service.url}/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'ReDoS', definition: { op: 'trait', key: 'email', cmp: 'matches', value: '(a+)+$' } }),
    });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { message: string; issues: { path: string }[] };
    expect(body.issues.map((i) => i.path)).toEqual(['$.value']);
    expect(body.message).toContain('backtrack');
    const text = await fetch(`${stack.service.url}/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'ReDoS', definition: "trait('email') matches '.*.*@x'" }),
    });
    expect(text.status).toBe(400);
    expect(((await text.json()) as { offset: number }).offset).toBe(23);
  }));

it('a computed-trait segment is entered and exited as the computed trait moves, and bad computedTraits are dead-lettered', () =>
  withLogs(async () => {
    const segmentId = await createSegment('Big spenders', "computed('total_revenue') > 500");
    const p = `p-computed-${scope.id}`;
    const bad = `p-badcomputed-${scope.id}`;
    const dlq = await new TopicReader<DeadLetter>(`${scope.namespace}${Topics.deadLetters.name}`).start();
    try {
      // No changedTraits: a computed trait moves with an event, and the change does not name it.
      await produce(
        change(p, 1, { computedTraits: '{"total_revenue": 100}' }),
        change(bad, 1, { computedTraits: '[1]' }),
        change(p, 2, { computedTraits: '{"total_revenue": 600}', eventName: 'Page Viewed', messageId: `pv-${p}` }),
      );
      await waitForTransition(segmentId, p, 'entered#1');
      expect(recordsOf(segmentId, p).find((r) => r.change === 'entered')).toMatchObject({ profileVersion: 2 });
      // A trait of the same name is not the computed trait.
      await produce(
        change(p, 3, { traits: '{"total_revenue": 900}', changedTraits: ['total_revenue'], computedTraits: '{"total_revenue": 400}' }),
      );
      await waitForTransition(segmentId, p, 'exited#2');
      expect(transitions(segmentId, p)).toEqual(['entered#1', 'exited#2']);
      expect(recordsOf(segmentId, p).find((r) => r.change === 'exited')).toMatchObject({ profileVersion: 3 });

      // The snapshot keeps the computed traits: a preview evaluates with them...
      await produce(change(p, 4, { computedTraits: '{"total_revenue": 700}' }));
      await waitForTransition(segmentId, p, 'entered#3');
      const res = await fetch(`${stack.service.url}/v1/segments/preview`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ definition: "computed('total_revenue') >= 700 and computed('total_revenue') < 701" }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { sample: string[] }).sample).toContain(p);
      // ... and so does the backfill of a segment created afterwards.
      const later = await createSegment('Big spenders backfilled', "computed('total_revenue') >= 700");
      await waitForTransition(later, p, 'entered#1');

      const letter = await dlq.waitForRecord(
        (l) => l.reason === 'invalid_computed_traits' && String(l.originalKey) === `${WS}:${bad}`,
        'the dead letter of the bad computedTraits',
      );
      expect(letter.value).toMatchObject({ stage: 'segmenter', workspaceId: WS, message: 'computedTraits is not a JSON object' });
      expect(recordsOf(segmentId, bad)).toEqual([]);
    } finally {
      await dlq.stop();
    }
  }));

it('publishes the JSON Schema of the definition AST', () =>
  withLogs(async () => {
    const res = await fetch(`${stack.service.url}/v1/segments/schema`, { headers: auth });
    expect(res.status).toBe(200);
    const schema = (await res.json()) as { $schema: string; definitions: Record<string, unknown> };
    expect(schema.$schema).toContain('draft-07');
    expect(Object.keys(schema.definitions)).toEqual(expect.arrayContaining(['event', 'consent', 'duration']));
  }));
