import type { RecordMetadata } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { Topics, type ProfileChange, type SegmentChange, type SegmentDefinition } from '@cdp/contracts';
import { startService, testScope, TopicReader, waitFor, type RunningService } from '@cdp/testing';
import { AUTH, DEMO_WS, profileChange, randomPortBase, startSegmenterStack, type SegmenterStack } from './testing/segmenter-stack';

/**
 * The built segmenter on the real stack: ProfileChange records in (Avro, namespaced topic),
 * SegmentChange records out. Trait entry/exit, a count-within-window condition that expires on
 * time with no new event, redelivery, backfill with progress, preview, segment-of-segments.
 */
const scope = testScope('segmenter');
const PORT = randomPortBase();
const WS = DEMO_WS;
const auth = AUTH;

let stack: SegmenterStack;
const check = (actual: unknown, expected: unknown): void => {
  expect(actual).toBe(expected);
};

beforeAll(async () => {
  stack = await startSegmenterStack(scope, { port: PORT, clientId: 'segmenter-it', checkRepeats: true, check });
}, 120_000);

afterAll(() => stack?.stop());

/** On failure, the service's warnings and errors. */
const withLogs = (run: () => Promise<void>): Promise<void> => stack.withLogs(run);
const change = profileChange;

const TRACE_ID = 'ab'.repeat(16);

const produce = (...changes: ProfileChange[]): Promise<RecordMetadata[]> =>
  stack.produce(changes, { traceparent: `00-${TRACE_ID}-${'1'.repeat(16)}-01` });

const createSegment = (name: string, definition: string, outputTraits?: string[]): Promise<string> =>
  stack.createSegment(name, definition, outputTraits);
const recordsOf = (segmentId: string, profileId: string) => stack.recordsOf(segmentId, profileId);
/** Distinct transitions (a redelivery may repeat one, with the same membershipVersion: checked). */
const transitions = (segmentId: string, profileId: string) => stack.transitions(segmentId, profileId);
const waitForTransition = (segmentId: string, profileId: string, expected: string, timeoutMs?: number) =>
  stack.waitForTransition(segmentId, profileId, expected, timeoutMs);

it('enters once on a trait condition, exits on change, and a redelivery only repeats what it caused', () =>
  withLogs(async () => {
    const segmentId = await createSegment('Germany', "trait('country') = 'DE'", ['country', 'plan']);
    const p = `p-trait-${scope.id}`;
    const v1 = change(p, 1, { traits: JSON.stringify({ country: 'DE', name: 'Jo' }), changedTraits: ['country'] });
    const v2 = change(p, 2, { traits: JSON.stringify({ country: 'FR' }), changedTraits: ['country'] });
    await produce(v1);
    await waitForTransition(segmentId, p, 'entered#1');
    await produce(v2);
    await waitForTransition(segmentId, p, 'exited#2');
    // Redelivery of both (same versions), then a new version on the same key (so, same partition, after them).
    await produce(v1, v2, change(p, 3, { traits: JSON.stringify({ country: 'DE' }), changedTraits: ['country'] }));
    await waitForTransition(segmentId, p, 'entered#3');
    expect(transitions(segmentId, p)).toEqual(['entered#1', 'exited#2', 'entered#3']);
    // The redelivered v1 and v2 emit their transitions again (the first produce may have been lost):
    // exact repeats, recognisable by segment, profile and membershipVersion.
    const entered1 = recordsOf(segmentId, p).filter((r) => r.membershipVersion === 1);
    expect(entered1).toHaveLength(2);
    expect(entered1[1]).toEqual(entered1[0]);
    expect(entered1[0]).toMatchObject({
      workspaceId: WS,
      segmentName: 'Germany',
      segmentVersion: 1,
      change: 'entered',
      profileVersion: 1,
      // What a consumer acts on without a lookup: identifiers, and only the traits the segment names.
      identifiers: [{ type: 'user_id', value: p }],
      traits: JSON.stringify({ country: 'DE' }),
    });
    // The trace the profile change carried continues on the segment change, one span further.
    const traced = stack.reader.records.find((r) => r.value.segmentId === segmentId && r.value.membershipVersion === 1);
    expect(traced?.headers['traceparent']).toMatch(new RegExp(`^00-${TRACE_ID}-(?!1{16})[0-9a-f]{16}-01$`));
  }));

it('enters on the second qualifying order in the window and exits when the window passes with no new event', () =>
  withLogs(async () => {
    const segmentId = await createSegment(
      'Two big orders',
      "event('Order Completed').where(property('total') > 100).within(1 minutes).count() >= 2",
    );
    const p = `p-window-${scope.id}`;
    const now = Date.now();
    const order = (version: number, messageId: string, ts: number, total: number) =>
      change(p, version, {
        messageId,
        eventName: 'Order Completed',
        eventTimestamp: ts,
        eventProperties: JSON.stringify({ total }),
      });
    // The first order leaves the one-minute window 4 s from now.
    const firstTs = now - 56_000;
    await produce(
      order(1, 'o1', firstTs, 150),
      order(2, 'o1', firstTs, 150), // the same event again under a new version: counted once
      order(3, 'o2', now - 1_000, 50), // does not pass the filter
      change(p, 4, { eventName: 'Page Viewed', messageId: 'pv1', eventTimestamp: now, eventProperties: '{}' }),
    );
    // Nothing yet: one qualifying order. The next one enters.
    await produce(order(5, 'o3', now - 500, 120));
    const entered = await waitFor(() => recordsOf(segmentId, p).find((r) => r.change === 'entered'), 'entry on the second order');
    expect(entered).toMatchObject({ membershipVersion: 1, profileVersion: 5 });
    const exited = await waitFor(
      () => recordsOf(segmentId, p).find((r) => r.change === 'exited'),
      'exit when the first order expires',
      30_000,
    );
    expect(exited).toMatchObject({ membershipVersion: 2, profileVersion: 5 });
    expect(exited.occurredAt).toBeGreaterThanOrEqual(firstTs + 60_000);
    expect(transitions(segmentId, p)).toEqual(['entered#1', 'exited#2']);
  }));

it('counts an event once when a later chunk brings it again (the chunk reads the history before storing it)', () =>
  withLogs(async () => {
    const marker = await createSegment('Marker', `trait('marker') = '${scope.id}'`);
    const twoOrders = await createSegment('Two orders', "event('Order Completed').count() >= 2");
    const p = `p-again-${scope.id}`;
    const order = (version: number, messageId: string, traits: Record<string, unknown> = {}) =>
      change(p, version, {
        traits: JSON.stringify(traits),
        messageId,
        eventName: 'Order Completed',
        eventTimestamp: Date.now(),
        eventProperties: '{}',
      });
    await produce(order(1, 'again-o1', { marker: scope.id }));
    await waitForTransition(marker, p, 'entered#1'); // the first order is stored and its chunk done
    await produce(order(2, 'again-o1'), order(3, 'again-o2'));
    const entered = await waitFor(() => recordsOf(twoOrders, p).find((r) => r.change === 'entered'), 'entry on the second order');
    expect(entered).toMatchObject({ membershipVersion: 1, profileVersion: 3 });
  }));

it('on a merge, the absorbed profile leaves every segment, its events count for the survivor, and a late change of it stays out', () =>
  withLogs(async () => {
    const marked = await createSegment('Merge marker', `trait('merge') = '${scope.id}'`);
    const twoOrders = await createSegment('Two orders over merges', "event('Order Completed').count() >= 2");
    const threeOrders = await createSegment('Three orders over merges', "trait('more') = 1 and event('Order Completed').count() >= 3");
    const absorbed = `p-absorbed-${scope.id}`;
    const survivor = `p-survivor-${scope.id}`;
    const order = (messageId: string) => ({ messageId, eventName: 'Order Completed', eventTimestamp: Date.now(), eventProperties: '{}' });
    await produce(
      change(absorbed, 1, { traits: JSON.stringify({ merge: scope.id }), ...order('merge-o1') }),
      change(survivor, 1, { ...order('merge-o2') }),
    );
    await waitForTransition(marked, absorbed, 'entered#1');
    await produce(change(survivor, 2, { change: 'merged', absorbedProfileIds: [absorbed], traits: JSON.stringify({ merge: scope.id }) }));
    await waitForTransition(marked, absorbed, 'exited#2');
    await waitForTransition(marked, survivor, 'entered#1');
    // The absorbed profile's order and the survivor's own: two.
    await waitForTransition(twoOrders, survivor, 'entered#1');
    expect(recordsOf(marked, absorbed).at(-1)).toMatchObject({
      change: 'exited',
      profileVersion: 1,
      identifiers: [],
    });
    // A change of the absorbed profile that was still in flight: it would make two orders and keep the marker.
    const [late] = await produce(change(absorbed, 2, { traits: JSON.stringify({ merge: scope.id }), ...order('merge-o3') }));
    // A profile entered after it on the same partition tells that the segmenter is past it.
    for (let i = 0; ; i++) {
      const sentinel = `p-sentinel-${i}-${scope.id}`;
      const [meta] = await produce(change(sentinel, 1, { traits: JSON.stringify({ merge: scope.id }) }));
      if (meta?.partition !== late?.partition) continue;
      await waitForTransition(marked, sentinel, 'entered#1');
      break;
    }
    expect(transitions(marked, absorbed)).toEqual(['entered#1', 'exited#2']);
    expect(transitions(twoOrders, absorbed)).toEqual([]);
    // Its order went to the survivor's history: the survivor's next change counts three.
    await produce(change(survivor, 3, { traits: JSON.stringify({ merge: scope.id, more: 1 }), changedTraits: ['more'] }));
    await waitForTransition(threeOrders, survivor, 'entered#1');
  }));

it('an erased person exits, and their stored events are forgotten', () =>
  withLogs(async () => {
    const segmentId = await createSegment('Two orders, erased', "event('Order Completed').count() >= 2");
    const p = `p-erased-${scope.id}`;
    const order = (version: number) =>
      change(p, version, {
        messageId: `o-erased-${version}`,
        eventName: 'Order Completed',
        eventTimestamp: Date.now(),
        eventProperties: JSON.stringify({ total: 120, email: 'erased@example.com' }),
      });
    await produce(order(1), order(2));
    await waitForTransition(segmentId, p, 'entered#1');
    const client = await MongoClient.connect(scope.mongoUrl);
    try {
      const history = client.db().collection('segment_event_history');
      expect(await history.countDocuments({ profileId: p })).toBe(1);
      await produce(change(p, 3, { change: 'deleted', identifiers: [] }));
      await waitForTransition(segmentId, p, 'exited#2');
      await waitFor(async () => (await history.countDocuments({ profileId: p })) === 0 || undefined, 'the history forgotten');
    } finally {
      await client.close();
    }
  }));

it('deleting a segment exits its members, then forgets them', () =>
  withLogs(async () => {
    const doomed = await createSegment('Doomed', `trait('doomed') = '${scope.id}'`, ['doomed']);
    const members = [`p-doomed-a-${scope.id}`, `p-doomed-b-${scope.id}`];
    const outsider = `p-doomed-out-${scope.id}`;
    await produce(
      ...members.map((p) => change(p, 1, { traits: JSON.stringify({ doomed: scope.id }) })),
      change(outsider, 1, { traits: JSON.stringify({ doomed: 'no' }) }),
    );
    for (const p of members) await waitForTransition(doomed, p, 'entered#1');
    const res = await fetch(`${stack.service.url}/v1/segments/${doomed}`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(204);
    for (const p of members) {
      await waitForTransition(doomed, p, 'exited#2');
      expect(recordsOf(doomed, p).at(-1)).toMatchObject({
        segmentName: 'Doomed',
        profileVersion: 1,
        identifiers: [{ type: 'user_id', value: p }],
        traits: JSON.stringify({ doomed: scope.id }),
      });
    }
    expect(recordsOf(doomed, outsider)).toEqual([]);
    expect((await fetch(`${stack.service.url}/v1/segments/${doomed}/members`, { headers: auth })).status).toBe(404);
  }));

it('publishes every version of a segment on cdp.segments.definitions.v1, a tombstone once it is deleted, and at start-up what is not there yet', () =>
  withLogs(async () => {
    const definitions = await new TopicReader<SegmentDefinition>(`${scope.namespace}${Topics.segmentDefinitions.name}`).start();
    try {
      const id = await createSegment('Defined', `trait('defined') = '${scope.id}'`, ['defined']);
      const first = await definitions.waitForRecord((d) => d.segmentId === id, 'the created definition');
      expect(first.key).toBe(`${WS}:${id}`);
      expect(first.value).toMatchObject({
        workspaceId: WS,
        name: 'Defined',
        version: 1,
        definition: `trait('defined') = '${scope.id}'`,
        computedTraitsRead: [],
        outputTraits: ['defined'],
        outputTopic: null,
      });
      const put = await fetch(`${stack.service.url}/v1/segments/${id}`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ name: 'Redefined', definition: `trait('defined') = 'x${scope.id}' and computed('visits') >= 2` }),
      });
      expect(put.status).toBe(200);
      const second = await definitions.waitForRecord((d) => d.segmentId === id && d.version === 2, 'the changed definition');
      expect(second.value).toMatchObject({ name: 'Redefined', computedTraitsRead: ['visits'], outputTraits: [] });

      // A version stored but not on the topic (its publish failed, or it predates the topic) goes out at start-up.
      const later = await createSegment('Later', `trait('later') = '${scope.id}'`);
      await definitions.waitForRecord((d) => d.segmentId === later, 'the second definition');
      const client = await MongoClient.connect(scope.mongoUrl);
      try {
        await client
          .db()
          .collection('segments')
          .updateOne({ segmentId: later }, { $set: { name: 'Renamed offline' }, $inc: { version: 1 } });
      } finally {
        await client.close();
      }
      await stack.restart();
      await definitions.waitForRecord(
        (d) => d.segmentId === later && d.version === 2 && d.name === 'Renamed offline',
        'the repaired definition',
      );
      // A segment being deleted takes no new version: its tombstone stays the last word.
      const mongo = await MongoClient.connect(scope.mongoUrl);
      try {
        await mongo
          .db()
          .collection('segments')
          .updateOne({ segmentId: later }, { $set: { deleting: true } });
      } finally {
        await mongo.close();
      }
      const refused = await fetch(`${stack.service.url}/v1/segments/${later}`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ name: 'Too late', definition: `trait('later') = 'x'` }),
      });
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { message: string }).message).toBe(`segment ${later} is being deleted`);

      const res = await fetch(`${stack.service.url}/v1/segments/${id}`, { method: 'DELETE', headers: auth });
      expect(res.status).toBe(204);
      await waitFor(async () => definitions.tombstones.includes(`${WS}:${id}`) || undefined, 'the tombstone of the deleted segment');
      expect(definitions.records.filter((r) => r.value.segmentId === id).map((r) => r.value.version)).toEqual([1, 2]);
    } finally {
      await definitions.stop();
    }
  }));

it('does not decide again on the stale traits of a record it evaluated before, when Kafka delivers it again', () =>
  withLogs(async () => {
    const germanBuyers = await createSegment('German buyers', "event('Order Completed').count() >= 2 and trait('country') = 'DE'");
    const marked = await createSegment('Marked', `trait('marker') = '${scope.id}'`);
    const p = `p-overtaken-${scope.id}`;
    const at = Date.now();
    const order = (version: number, messageId: string, traits: Record<string, unknown>) =>
      change(p, version, {
        traits: JSON.stringify(traits),
        changedTraits: Object.keys(traits),
        messageId,
        eventName: 'Order Completed',
        eventTimestamp: at,
        eventProperties: '{}',
      });
    const [sent] = await produce(
      order(1, 'overtaken-o1', { country: 'DE' }),
      order(2, 'overtaken-o2', { country: 'FR', marker: scope.id }),
    );
    await waitForTransition(marked, p, 'entered#1'); // v2 is stored and evaluated
    // v1 again, from Kafka (a lost commit, a rebalance): on its own traits, with both orders stored by now, it would enter.
    await stack.restart(undefined, async (admin, groupId) => {
      const { topicName: topic, partition, baseOffset } = sent as RecordMetadata;
      await waitFor(async () => {
        const [committed] =
          (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions.filter((x) => x.partition === partition) ?? [];
        return Number(committed?.offset ?? -1) > Number(baseOffset) + 1 || undefined;
      }, 'the commit of v2');
      await admin.setOffsets({ groupId, topic, partitions: [{ partition, offset: baseOffset ?? '0' }] });
    });
    await produce(change(p, 3, { traits: JSON.stringify({ country: 'FR' }), changedTraits: ['marker'] }));
    await waitForTransition(marked, p, 'exited#2');
    expect(recordsOf(marked, p).filter((r) => r.membershipVersion === 1)).toHaveLength(2); // v2 redelivered: repeated
    expect(transitions(germanBuyers, p)).toEqual([]);
  }));

it('backfills a new segment over existing profiles with progress, previews, then follows live changes', () =>
  withLogs(async () => {
    const tier = `gold-${scope.id}`;
    const gold = [`p-bf-a-${scope.id}`, `p-bf-b-${scope.id}`];
    const silver = `p-bf-c-${scope.id}`;
    await produce(
      ...gold.map((id) => change(id, 1, { traits: JSON.stringify({ tier }) })),
      change(silver, 1, { traits: JSON.stringify({ tier: 'silver' }) }),
    );
    const definition = `trait('tier') = '${tier}'`;
    const preview = await waitFor(async () => {
      const res = await fetch(`${stack.service.url}/v1/segments/preview`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ definition }),
      });
      const body = (await res.json()) as { count: number; sample: string[] };
      return body.count === 2 ? body : undefined;
    }, 'preview to count both gold profiles');
    expect([...preview.sample].sort()).toEqual([...gold].sort());

    const created = await fetch(`${stack.service.url}/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'Gold', definition }),
    });
    expect(created.status).toBe(201);
    // The answer shows the backfill it started.
    const {
      id: segmentId,
      backfill,
      warnings,
    } = (await created.json()) as {
      id: string;
      backfill: { version: number; status: string } | null;
      warnings: string[];
    };
    expect(backfill).toMatchObject({ version: 1, status: 'running' });
    expect(warnings).toEqual([]);
    for (const id of gold) await waitForTransition(segmentId, id, 'entered#1');
    const status = await waitFor(async () => {
      const body = (await (await fetch(`${stack.service.url}/v1/segments/${segmentId}`, { headers: auth })).json()) as {
        version: number;
        backfill: { status: string; percent: number; profilesPerSecond: number; entered: number } | null;
      };
      return body.backfill?.status === 'done' ? body : undefined;
    }, 'backfill done');
    expect(status.version).toBe(1);
    expect(status.backfill).toMatchObject({ percent: 100, entered: 2 });
    expect(status.backfill?.profilesPerSecond).toBeGreaterThan(0);
    expect(recordsOf(segmentId, silver)).toEqual([]);

    // Live after backfill: silver turns gold.
    await produce(change(silver, 2, { traits: JSON.stringify({ tier }), changedTraits: ['tier'] }));
    await waitForTransition(segmentId, silver, 'entered#1');
    for (const id of gold) expect(transitions(segmentId, id)).toEqual(['entered#1']);

    // A new version no one matches: its backfill takes the three members out and says so.
    const put = await fetch(`${stack.service.url}/v1/segments/${segmentId}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ name: 'Gold', definition: `trait('tier') = 'none-${scope.id}'` }),
    });
    expect(put.status).toBe(200);
    const redone = await waitFor(async () => {
      const body = (await (await fetch(`${stack.service.url}/v1/segments/${segmentId}`, { headers: auth })).json()) as {
        backfill: { version: number; status: string; entered: number; exited: number } | null;
      };
      return body.backfill?.version === 2 && body.backfill.status === 'done' ? body.backfill : undefined;
    }, 'the version 2 backfill done');
    expect(redone).toMatchObject({ entered: 0, exited: 3 });
  }));

it('warns, on create, that an event no segment counted before has no earlier history; not once a segment counts it', async () => {
  const event = `Wishlist Added ${scope.id}`;
  const definition = `event('${event}').count() >= 1`;
  const write = async (method: string, path: string, name: string) => {
    const res = await fetch(`${stack.service.url}/v1/segments${path}`, {
      method,
      headers: auth,
      body: JSON.stringify({ name, definition }),
    });
    return (await res.json()) as { id: string; warnings: string[] };
  };
  const first = await write('POST', '', `Wishlisters ${scope.id}`);
  expect(first.warnings).toEqual([expect.stringContaining(`event("${event}") is counted from now on`)]);
  // Its own version counts it now, and so does it for a second segment.
  expect((await write('PUT', `/${first.id}`, `Wishlisters ${scope.id}`)).warnings).toEqual([]);
  expect((await write('POST', '', `Wishlisters too ${scope.id}`)).warnings).toEqual([]);
});

it('starts a backfill again when its progress stopped moving (its instance stopped)', () =>
  withLogs(async () => {
    const p = `p-resume-${scope.id}`;
    await produce(change(p, 1, { traits: JSON.stringify({ resume: scope.id }) }));
    const definition = `trait('resume') = '${scope.id}'`;
    // Its snapshot stored first, so the segment's backfill finds it (as in the backfill test above).
    await waitFor(async () => {
      const res = await fetch(`${stack.service.url}/v1/segments/preview`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ definition }),
      });
      return ((await res.json()) as { count: number }).count === 1 || undefined;
    }, 'the profile snapshot');
    const segmentId = await createSegment('Resumed', definition);
    await waitForTransition(segmentId, p, 'entered#1');
    // A run stopped half-way an hour ago, as an instance that died leaves it.
    const stalled = new Date(Date.now() - 3_600_000);
    const client = await MongoClient.connect(scope.mongoUrl);
    try {
      const backfill = {
        version: 1,
        status: 'running',
        total: 10,
        processed: 3,
        entered: 0,
        startedAt: stalled,
        profilesPerSecond: 1,
        savedAt: stalled,
      };
      await client.db().collection('segments').updateOne({ segmentId }, { $set: { backfill } });
    } finally {
      await client.close();
    }
    const resumed = await waitFor(async () => {
      const body = (await (await fetch(`${stack.service.url}/v1/segments/${segmentId}`, { headers: auth })).json()) as {
        backfill: { status: string; startedAt: string } | null;
      };
      return body.backfill?.status === 'done' ? body.backfill : undefined;
    }, 'the stalled backfill run again to its end');
    expect(Date.parse(resumed.startedAt)).toBeGreaterThan(stalled.getTime());
    // Run again over the same snapshots: nothing new to emit.
    expect(transitions(segmentId, p)).toEqual(['entered#1']);
  }));

describe('with another instance on the same database (its own topics), whose writes this one sees only after SEGMENT_CACHE_TTL_MS', () => {
  let other: RunningService;
  let otherChanges: TopicReader<SegmentChange>;
  beforeAll(async () => {
    other = await startService('segmenter', PORT + 7, { ...scope.env, CDP_TOPIC_NAMESPACE: `${scope.namespace}other.` });
    otherChanges = await new TopicReader<SegmentChange>(`${scope.namespace}other.${Topics.segmentChanges.name}`).start();
  }, 120_000);
  // Stopped before the later tests: its timer would fire this scope's schedule onto its own topics.
  afterAll(async () => {
    await otherChanges?.stop();
    await other?.stop();
  });

  const preview = async (definition: string): Promise<number> => {
    const res = await fetch(`${stack.service.url}/v1/segments/preview`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ definition }),
    });
    return ((await res.json()) as { count: number }).count;
  };

  it('a segment created there is entered by a change evaluated here before this instance knew the segment', () =>
    withLogs(async () => {
      const p = `p-late-${scope.id}`;
      // A write through this instance makes its next record reload the catalog: P's first change.
      await createSegment('Late warm-up', `trait('late') = 'warm-up ${scope.id}'`);
      await produce(change(p, 1, { traits: JSON.stringify({ late: `pending ${scope.id}` }) }));
      await waitFor(async () => (await preview(`trait('late') = 'pending ${scope.id}'`)) === 1 || undefined, 'the first snapshot');
      // Its backfill reads the snapshots at once unless it waits for this instance's catalog.
      const res = await fetch(`${other.url}/v1/segments`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ name: 'Late', definition: `trait('late') = 'arrived ${scope.id}'` }),
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      await produce(change(p, 2, { traits: JSON.stringify({ late: `arrived ${scope.id}` }) }));
      await waitFor(
        async () => {
          const body = (await (await fetch(`${stack.service.url}/v1/segments/${id}/members`, { headers: auth })).json()) as {
            items: { profileId: string }[];
          };
          return body.items.some((m) => m.profileId === p) || undefined;
        },
        'the profile in the segment',
        30_000,
      );
    }));

  it('a segment deleted there keeps no member this instance entered while it still knew the segment', () =>
    withLogs(async () => {
      const [warm, p] = [`p-gone-warm-${scope.id}`, `p-gone-${scope.id}`];
      const id = await createSegment('Gone', `trait('gone') = '${scope.id}'`);
      // A write through this instance makes its next record reload the catalog, with 'Gone'.
      await produce(change(warm, 1, { traits: JSON.stringify({ gone: scope.id }) }));
      await waitForTransition(id, warm, 'entered#1');
      const client = await MongoClient.connect(scope.mongoUrl);
      try {
        const segments = client.db().collection('segments');
        const deleted = fetch(`${other.url}/v1/segments/${id}`, { method: 'DELETE', headers: auth });
        // Marked (or already gone), then P qualifies: evaluated here with the catalog that still has it.
        await waitFor(async () => ((await segments.findOne({ segmentId: id }))?.['deleting'] ?? true) || undefined, 'the mark');
        await produce(change(p, 1, { traits: JSON.stringify({ gone: scope.id }) }));
        await waitForTransition(id, p, 'entered#1');
        expect((await deleted).status).toBe(204);
        // Its deletion read the members after this instance had entered P: P exited (on the other
        // instance's topic), and nothing is left behind.
        await waitFor(
          () =>
            otherChanges.records.some((r) => r.value.segmentId === id && r.value.profileId === p && r.value.change === 'exited') ||
            undefined,
          "P's exit",
        );
        expect(await client.db().collection('segment_memberships').countDocuments({ segmentId: id })).toBe(0);
      } finally {
        await client.close();
      }
    }));
});

it('follows segment-of-segments and refuses unknown references and cycles', () =>
  withLogs(async () => {
    const vipName = `VIP ${scope.id}`;
    const vip = await createSegment(vipName, "trait('vip') = true");
    const notVip = await createSegment('Not VIP', `trait('country') exists and not segment('${vipName}')`);
    const p = `p-sos-${scope.id}`;
    await produce(change(p, 1, { traits: JSON.stringify({ country: 'DE', vip: false }) }));
    await waitForTransition(notVip, p, 'entered#1');
    await produce(change(p, 2, { traits: JSON.stringify({ country: 'DE', vip: true }), changedTraits: ['vip'] }));
    await waitForTransition(vip, p, 'entered#1');
    await waitForTransition(notVip, p, 'exited#2');

    const stored = (await (await fetch(`${stack.service.url}/v1/segments/${notVip}`, { headers: auth })).json()) as { text: string };
    expect(stored.text).toContain(`segment('${vip}')`);
    const cycle = await fetch(`${stack.service.url}/v1/segments/${vip}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ name: vipName, definition: `segment('${notVip}')` }),
    });
    expect(cycle.status).toBe(400);
    expect(((await cycle.json()) as { message: string }).message).toContain('cycle');
    const unknown = await fetch(`${stack.service.url}/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'x', definition: "segment('no such segment')" }),
    });
    expect(unknown.status).toBe(400);
    const inUse = await fetch(`${stack.service.url}/v1/segments/${vip}`, { method: 'DELETE', headers: auth });
    expect(inUse.status).toBe(409);
    expect(((await inUse.json()) as { message: string }).message).toBe(`segment ${vip} is read by Not VIP (${notVip}); change those first`);

    // One name, one segment: a second segment (or a rename) cannot take a name in use.
    const taken = { status: 409, message: `segment ${vip} is already named '${vipName}'; segment names are unique in a workspace` };
    const twin = await fetch(`${stack.service.url}/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: vipName, definition: "trait('vip') exists" }),
    });
    expect({ status: twin.status, message: ((await twin.json()) as { message: string }).message }).toEqual(taken);
    const rename = await fetch(`${stack.service.url}/v1/segments/${notVip}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ name: vipName, definition: "trait('country') exists" }),
    });
    expect({ status: rename.status, message: ((await rename.json()) as { message: string }).message }).toEqual(taken);
  }));

it('expires a windowed membership after a restart, from the persisted schedule', () =>
  withLogs(async () => {
    const segmentId = await createSegment('Recent signup', "event('Signed Up').within(1 minutes).count() >= 1");
    const p = `p-restart-${scope.id}`;
    const ts = Date.now() - 54_000;
    await produce(change(p, 1, { eventName: 'Signed Up', messageId: 's1', eventTimestamp: ts, eventProperties: '{}' }));
    await waitForTransition(segmentId, p, 'entered#1');
    await stack.restart(PORT + 1);
    await waitForTransition(segmentId, p, 'exited#2');
    expect(recordsOf(segmentId, p).find((r) => r.change === 'exited')?.occurredAt).toBeGreaterThanOrEqual(ts + 60_000);
  }));

it('runs predictions from stored orders and moves segments that read a predicted trait', () =>
  withLogs(async () => {
    const segmentId = await createSegment(`Predicted ${scope.id}`, "trait('predicted_rfm') exists", ['predicted_rfm_tier']);
    const people = Array.from({ length: 10 }, (_, i) => `p-rfm-${i}-${scope.id}`);
    const day = 86_400_000;
    // Person i ordered i+1 times, the last one i days ago: RFM quintiles spread over them.
    await produce(
      ...people.flatMap((p, i) =>
        Array.from({ length: i + 1 }, (_, n) =>
          change(p, n + 1, {
            eventName: 'Order Completed',
            messageId: `${p}-order-${n}`,
            eventTimestamp: Date.now() - (i + n * 7) * day,
            eventProperties: JSON.stringify({ revenue: 10 * (i + 1) }),
          }),
        ),
      ),
    );
    const run = async () => {
      const res = await fetch(`${stack.service.url}/v1/predictions/run`, { method: 'POST', headers: auth });
      expect(res.status).toBe(200);
      return (await res.json()) as {
        predicted: number;
        refreshedSegments: string[];
        startedAt: string;
        finishedAt: string;
        report: { asOf: string };
      };
    };
    const done = await waitFor(async () => {
      const r = await run();
      return r.predicted >= people.length ? r : undefined;
    }, 'predictions for every buyer');
    expect(done.refreshedSegments).toContain(segmentId);
    // Times in ISO 8601, like every other API (epoch milliseconds before 2026-12-01).
    const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    expect(done).toMatchObject({ startedAt: expect.stringMatching(isoTime), finishedAt: expect.stringMatching(isoTime) });
    expect(done.report.asOf).toMatch(isoTime);
    const latest = await fetch(`${stack.service.url}/v1/predictions/report`, { headers: auth });
    expect(latest.status).toBe(200);
    expect(await latest.json()).toMatchObject({
      startedAt: expect.stringMatching(isoTime),
      report: { asOf: expect.stringMatching(isoTime) },
    });
    const one = await fetch(`${stack.service.url}/v1/predictions/profiles/${encodeURIComponent(people[0] ?? '')}`, { headers: auth });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ profileId: people[0], computedAt: expect.stringMatching(isoTime) });
    for (const p of people) await waitForTransition(segmentId, p, 'entered#1');
    const tiers = people.map((p) => JSON.parse(recordsOf(segmentId, p)[0]?.traits ?? 'null') as { predicted_rfm_tier?: unknown });
    for (const t of tiers) expect(typeof t.predicted_rfm_tier).toBe('string');
  }));
