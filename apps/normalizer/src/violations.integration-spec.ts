import { Kafka, logLevel } from 'kafkajs';
import { stackEndpoints, testScope, waitFor } from '@cdp/testing';
import { violationKey } from './app/violations/violation-summary';
import { MAX_ROWS_PER_WORKSPACE, type ViolationView } from './app/violations/violations.repository';
import { DEMO_WS, json, startNormalizerStack, type NormalizerStack } from './testing/normalizer-stack';

/**
 * The violation summary on the real stack: flagged events of a plan in flag mode are listed per
 * kind with their counts; a copy of a messageId and a redelivery of the whole partition (the
 * group's offsets reset) count nothing again; rows not seen for 30 days are swept at start; a
 * workspace at the row cap gets no new kinds.
 */
const scope = testScope('violations');
const WS = DEMO_WS;
const CAPPED = `capped${scope.id}`;
/** One key: one partition, in order. */
const KEY = `${WS}:u`;
const ORDER = 'Order Completed';
const ORDER_SCHEMA = { type: 'object', required: ['total'], properties: { total: { type: 'number' } } };

/** The listing as the API answers it (JSON: the repository's view). */
type Row = ViolationView;
type Listing = { violations: Row[]; total: number };

let stack: NormalizerStack;

beforeAll(async () => {
  stack = await startNormalizerStack(scope);
}, 120_000);

afterAll(() => stack?.stop());

const api = (path: string, headers?: Record<string, string>) => stack.api('GET', path, undefined, headers);
const id = (name: string) => `m-${name}-${scope.id}`;
const order = (messageId: string, properties: Record<string, unknown>) => ({
  type: 'track',
  event: ORDER,
  userId: 'u',
  messageId,
  properties,
});
/** Rows as `event | path | kind -> count`, in a stable order. */
const counts = (rows: Row[]) => Object.fromEntries(rows.map((r) => [`${r.event} | ${r.path} | ${r.kind}`, r.count]));

const EXPECTED = {
  [`${ORDER} | properties/total | must be number`]: 2,
  [`${ORDER} | properties | must have required property 'total'`]: 1,
  'Mystery | event | is not in the tracking plan': 1,
  'null | traits/plan | must be string': 1,
};

it('lists the violations of flagged events per kind, newest first, each event counted once', () =>
  stack.withLogs(async () => {
    const put = (path: string, body: unknown) => stack.api('PUT', path, body);
    await json(await put('/v1/tracking-plans', { mode: 'flag', allowUnplannedEvents: false }));
    await json(await put(`/v1/tracking-plans/${encodeURIComponent(ORDER)}`, { schema: ORDER_SCHEMA }));
    await json(await put('/v1/tracking-plans/identify/traits', { schema: { properties: { plan: { type: 'string' } } } }));

    await stack.sendJson(KEY, order(id('lots'), { total: 'lots' }));
    await stack.sendJson(KEY, order(id('none'), {}));
    await stack.sendJson(KEY, order(id('x'), { total: 'x' }));
    // A copy of the same messageId (an SDK retry): a duplicate, not counted.
    await stack.sendJson(KEY, order(id('x'), { total: 'x' }));
    await stack.sendJson(KEY, { type: 'track', event: 'Mystery', userId: 'u', messageId: id('mystery') });
    await stack.sendJson(KEY, { type: 'identify', userId: 'u', messageId: id('identify'), traits: { plan: 42 } });
    await stack.sendJson(KEY, order(id('fine'), { total: 3 }));

    const listing = await waitFor(async () => {
      const body = await json<Listing>(await api('/v1/tracking-plan-violations'));
      return body.total === 4 && body.violations.some((r) => r.event === 'Mystery') && body.violations.some((r) => r.event === null)
        ? body
        : undefined;
    }, 'the four kinds of violation');
    expect(counts(listing.violations)).toEqual(EXPECTED);
    const times = listing.violations.map((r) => r.lastSeenAt);
    expect([...times].sort().reverse()).toEqual(times);
    const total = listing.violations.find((r) => r.path === 'properties/total');
    expect(total).toMatchObject({
      eventType: 'track',
      example: { messageId: id('x'), message: 'properties/total must be number' },
      firstSeenAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(listing.violations.find((r) => r.event === null)?.eventType).toBe('identify');

    // Filters.
    const byEvent = await json<Listing>(await api(`/v1/tracking-plan-violations?event=${encodeURIComponent(ORDER)}`));
    expect(byEvent.total).toBe(2);
    expect(byEvent.violations.every((r) => r.event === ORDER)).toBe(true);
    expect((await json<Listing>(await api('/v1/tracking-plan-violations?limit=1&since=1h'))).violations).toHaveLength(1);
    expect((await json<Listing>(await api('/v1/tracking-plan-violations?limit=1'))).total).toBe(4);
    expect(await json<Listing>(await api('/v1/tracking-plan-violations?since=2999-01-01'))).toEqual({ violations: [], total: 0 });
    for (const [query, problem] of [
      ['limit=500', /limit must be an integer from 1 to 200/],
      ['since=yesterday', /since must be an ISO 8601 time/],
      ['reason=x', /unknown filter "reason"/],
    ] as const)
      expect((await json<{ message: string }>(await api(`/v1/tracking-plan-violations?${query}`), 400)).message).toMatch(problem);
    expect((await api('/v1/tracking-plan-violations', {})).status).toBe(401);
    // The summary has a path of its own: an event named `violations` keeps its plan route.
    await json(await put('/v1/tracking-plans/violations', { schema: ORDER_SCHEMA }));
    expect(await json(await api('/v1/tracking-plans/violations'))).toMatchObject({ schema: ORDER_SCHEMA });
  }));

it('counts nothing again when the partition is delivered again, sweeps rows unseen for 30 days, stops adding kinds at the cap', () =>
  stack.withLogs(async () => {
    const rows = stack.mongo.db().collection<{ _id: string } & Record<string, unknown>>('normalizer_violations');
    const row = (workspaceId: string, key: string, fields: Record<string, unknown>) => ({
      _id: `${workspaceId}:${key}`,
      workspaceId,
      key,
      eventType: 'track',
      path: 'properties',
      kind: 'must be object',
      count: 5,
      firstSeenAt: new Date(),
      lastSeenAt: new Date(),
      exampleMessageId: 'seeded',
      exampleMessage: 'properties must be object',
      ...fields,
    });
    // Seen last 31 days ago: swept at start.
    const old = Date.now() - 31 * 86_400_000;
    await rows.insertOne(row(WS, 'expired', { event: 'Old', firstSeenAt: new Date(old), lastSeenAt: new Date(old) }));
    // A workspace at the cap: its known kind still counts, a new kind is not stored.
    const totalKind = { eventType: 'track', event: ORDER, path: 'properties/total', kind: 'must be number' };
    await rows.insertMany([
      row(CAPPED, violationKey(totalKind), totalKind),
      ...Array.from({ length: MAX_ROWS_PER_WORKSPACE - 1 }, (_, i) => row(CAPPED, `filler${i}`, { event: `Filler ${i}` })),
    ]);
    await stack.mongo
      .db()
      .collection('normalizer_tracking_plans')
      .insertOne({
        workspaceId: CAPPED,
        mode: 'flag',
        events: [{ name: ORDER, schema: JSON.stringify(ORDER_SCHEMA) }],
        allowUnplannedEvents: false,
      });

    // The whole partition delivered again, as after a crash before the offsets were committed:
    // the events are produced again, their violations are not counted again.
    const copiesOf = (messageId: string) => stack.normalized.records.filter((r) => r.value.messageId === messageId).length;
    expect(copiesOf(id('fine'))).toBe(1);
    await stack.restart(() => rewind(`${scope.namespace}cdp.normalizer`, stack.rawTopic));
    // After the redelivered records, in the same partition: a kind stored before this instance
    // started, then a new one; once the new one is listed, the earlier writes are done.
    await stack.sendJson(KEY, order(id('late-order'), { total: 'late' }));
    await stack.sendJson(KEY, { type: 'track', event: 'Late', userId: 'u', messageId: id('late') });
    const again = await waitFor(async () => {
      const body = await json<Listing>(await api('/v1/tracking-plan-violations'));
      return body.violations.some((r) => r.event === 'Late') ? body : undefined;
    }, 'the violation sent after the redelivery');
    await waitFor(() => copiesOf(id('fine')) === 2, 'the redelivered events produced again');
    expect(counts(again.violations)).toEqual({
      ...EXPECTED,
      [`${ORDER} | properties/total | must be number`]: 3,
      'Late | event | is not in the tracking plan': 1,
    });
    expect(again.violations[0]?.event).toBe('Late');
    expect(await rows.countDocuments({ _id: `${WS}:expired` })).toBe(0);

    await stack.sendJson(`${CAPPED}:u`, { type: 'track', event: 'Fresh', userId: 'u', messageId: id('fresh') });
    await stack.sendJson(`${CAPPED}:u`, order(id('capped-order'), { total: 'x' }));
    await waitFor(
      async () => (await rows.findOne({ _id: `${CAPPED}:${violationKey(totalKind)}` }))?.['count'] === 6,
      'the known kind counted',
    );
    expect(await rows.countDocuments({ workspaceId: CAPPED, event: 'Fresh' })).toBe(0);
    expect(await rows.countDocuments({ workspaceId: CAPPED })).toBe(MAX_ROWS_PER_WORKSPACE);
  }));

/** Moves a consumer group back to the start of a topic (once its members have left). */
async function rewind(groupId: string, topic: string): Promise<void> {
  const admin = new Kafka({
    brokers: stackEndpoints().kafkaBrokers.split(','),
    clientId: 'violations-test',
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        await admin.resetOffsets({ groupId, topic, earliest: true });
        return true;
      },
      'the normalizer group to be empty',
      30_000,
      500,
    );
  } finally {
    await admin.disconnect();
  }
}
