import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { ALL_TOPICS, Topics, valueSubject, type RawEvent } from '@cdp/contracts';
import { stackEndpoints, startService, testScope, TopicReader, type RunningService } from '@cdp/testing';

/**
 * The real server-side SDKs, unchanged but for their host option, pointed at the built
 * collector: @segment/analytics-node (JSON batches, Basic auth) and @rudderstack/rudder-sdk-node
 * (gzipped batches). Every call type, each checked on cdp.events.raw.v1 field by field.
 */
const scope = testScope('collsdk');
const PORT = 19_000 + Math.floor(Math.random() * 900);
const WRITE_KEY = 'dev-write-key';
let collector: RunningService;
let raw: TopicReader<RawEvent>;

beforeAll(async () => {
  collector = await startService('collector', PORT, scope.env);
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
}, 90_000);
afterAll(async () => {
  await raw?.stop();
  await collector?.stop();
});

type Payload = Record<string, unknown> & { context: Record<string, unknown> };
const onTopic = async (messageId: string): Promise<{ record: RawEvent; payload: Payload }> => {
  const { value } = await raw.waitForRecord((v) => v.messageId === messageId, `${messageId} on the raw topic`, 30_000);
  return { record: value, payload: JSON.parse(value.payload) as Payload };
};

/** One of each call, with ids and fields to find and compare on the topic. */
function calls(sdk: string) {
  const id = (label: string) => `${sdk}-${label}-${scope.id}`;
  const userId = id('user');
  return {
    userId,
    identify: { messageId: id('identify'), userId, traits: { email: `${sdk}.${scope.id}@example.com`, plan: 'pro', seats: 3 } },
    track: {
      messageId: id('track'),
      userId,
      event: 'Order Completed',
      properties: { orderId: 'o-1', revenue: 42.5, items: [{ sku: 'a' }] },
    },
    page: { messageId: id('page'), anonymousId: id('anon'), name: 'Pricing', properties: { path: '/pricing', title: 'Pricing' } },
    screen: { messageId: id('screen'), userId, name: 'Checkout', properties: { step: 2 } },
    group: { messageId: id('group'), userId, groupId: id('org'), traits: { name: 'Acme', employees: 50 } },
    alias: { messageId: id('alias'), userId, previousId: id('anon') },
  };
}

async function expectAllOnTopic(c: ReturnType<typeof calls>, library: RegExp): Promise<void> {
  const common = (type: string) => ({
    type,
    context: expect.objectContaining({ library: { name: expect.stringMatching(library), version: expect.any(String) } }),
  });
  const identify = await onTopic(c.identify.messageId);
  expect(identify.record).toMatchObject({
    workspaceId: 'demo',
    sourceId: 'demo-source',
    type: 'identify',
    messageId: c.identify.messageId,
  });
  expect(identify.payload).toMatchObject({
    ...common('identify'),
    messageId: c.identify.messageId,
    userId: c.userId,
    traits: c.identify.traits,
  });

  const track = await onTopic(c.track.messageId);
  expect(track.record.type).toBe('track');
  expect(track.payload).toMatchObject({ ...common('track'), userId: c.userId, event: 'Order Completed', properties: c.track.properties });

  const page = await onTopic(c.page.messageId);
  expect(page.record.type).toBe('page');
  expect(page.payload).toMatchObject({
    ...common('page'),
    anonymousId: c.page.anonymousId,
    name: 'Pricing',
    properties: expect.objectContaining(c.page.properties),
  });
  expect(page.payload['userId']).toBeUndefined();

  const screen = await onTopic(c.screen.messageId);
  expect(screen.payload).toMatchObject({
    ...common('screen'),
    userId: c.userId,
    name: 'Checkout',
    properties: expect.objectContaining(c.screen.properties),
  });

  const group = await onTopic(c.group.messageId);
  expect(group.payload).toMatchObject({ ...common('group'), userId: c.userId, groupId: c.group.groupId, traits: c.group.traits });

  const alias = await onTopic(c.alias.messageId);
  expect(alias.payload).toMatchObject({ ...common('alias'), userId: c.userId, previousId: c.alias.previousId });

  for (const { payload } of [identify, track, page, screen, group, alias]) {
    expect(typeof payload['receivedAt']).toBe('string');
    expect(Number.isNaN(Date.parse(String(payload['timestamp'] ?? payload['originalTimestamp'])))).toBe(false);
    expect(payload['writeKey']).toBeUndefined();
  }
}

it('@segment/analytics-node: every call type arrives on the raw topic as sent', async () => {
  const errors: unknown[] = [];
  const analytics = new SegmentAnalytics({ writeKey: WRITE_KEY, host: collector.url, flushAt: 6, maxRetries: 0 });
  analytics.on('error', (e) => errors.push(e));
  const c = calls('segment');
  analytics.identify(c.identify);
  analytics.track(c.track);
  analytics.page(c.page);
  analytics.screen(c.screen);
  analytics.group(c.group);
  analytics.alias(c.alias);
  await analytics.closeAndFlush({ timeout: 20_000 });
  expect(errors).toEqual([]);
  await expectAllOnTopic(c, /^@segment\/analytics-node$/);
});

it('@rudderstack/rudder-sdk-node: every call type arrives on the raw topic as sent (gzipped batches)', async () => {
  const errors: unknown[] = [];
  const analytics = new RudderAnalytics(WRITE_KEY, {
    dataPlaneUrl: collector.url,
    flushAt: 100,
    flushInterval: 60_000,
    retryCount: 0,
    logLevel: 'error',
    errorHandler: (e) => errors.push(e),
  });
  const c = calls('rudder');
  // messageId is not in the SDK's types, but the SDK keeps one it is given.
  analytics.identify(c.identify as Parameters<RudderAnalytics['identify']>[0]);
  analytics.track(c.track as Parameters<RudderAnalytics['track']>[0]);
  analytics.page(c.page as Parameters<RudderAnalytics['page']>[0]);
  analytics.screen(c.screen as Parameters<RudderAnalytics['screen']>[0]);
  analytics.group(c.group as Parameters<RudderAnalytics['group']>[0]);
  analytics.alias(c.alias as Parameters<RudderAnalytics['alias']>[0]);
  await analytics.flush();
  expect(errors).toEqual([]);
  await expectAllOnTopic(c, /^analytics-node$/);
});

it('@segment/analytics-node sees a refused write key as an error, and nothing of it is produced', async () => {
  const errors: unknown[] = [];
  const analytics = new SegmentAnalytics({ writeKey: `wk_unknown_${scope.id}`, host: collector.url, flushAt: 1, maxRetries: 0 });
  analytics.on('error', (e) => errors.push(e));
  analytics.track({ userId: `nobody-${scope.id}`, event: 'Refused', messageId: `refused-${scope.id}` });
  await analytics.closeAndFlush({ timeout: 20_000 });
  expect(errors.length).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 1_000));
  expect(raw.records.some((r) => r.value.messageId === `refused-${scope.id}`)).toBe(false);
});

it("registers every topic's value schema at start, so a consumer in any language can fetch it before the topic's first record", async () => {
  const { registryUrl } = stackEndpoints();
  const subjects = (await (await fetch(`${registryUrl}/subjects`)).json()) as string[];
  const expected = ALL_TOPICS.map((t) => valueSubject(`${scope.namespace}${t.name}`));
  expect(expected.filter((s) => !subjects.includes(s))).toEqual([]);
  // The removals topic: nothing in this test writes to it, its subject is there all the same.
  const latest = await fetch(
    `${registryUrl}/subjects/${valueSubject(`${scope.namespace}${Topics.identityRemovals.name}`)}/versions/latest`,
  );
  expect(JSON.parse(((await latest.json()) as { schema: string }).schema)).toEqual(JSON.parse(Topics.identityRemovals.schema));
});
