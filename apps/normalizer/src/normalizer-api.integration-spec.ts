import { testScope, waitFor } from '@cdp/testing';
import { PiiCipher } from './app/privacy/pii-crypto';
import { DEMO_WS, json, metricsOf, startNormalizerStack, type NormalizerStack } from './testing/normalizer-stack';

/**
 * The normalizer's API on the real stack: settings and tracking plans that change how new events
 * are cleaned and checked, the DLQ listing, and a replay after a plan is fixed that has its effect
 * once, however often it is repeated.
 */
const scope = testScope('normapi');
// The demo workspace of the scope's own database, with its API key.
const WS = DEMO_WS;
const OTHER = `other${scope.id}`;
const PII_KEY = Buffer.alloc(32, 42).toString('base64');
const ORDER_SCHEMA = { type: 'object', required: ['total'], properties: { total: { type: 'number' } } };

let stack: NormalizerStack;

beforeAll(async () => {
  stack = await startNormalizerStack(scope, { env: { CDP_PII_ENCRYPTION_KEY: PII_KEY } });
}, 120_000);

afterAll(() => stack?.stop());

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => stack.api(method, path, body, headers);
const sendJson = (key: string, message: Record<string, unknown>) => stack.sendJson(key, message);
const withLogs = (run: () => Promise<void>) => stack.withLogs(run);

const copiesOf = (id: string) => stack.normalized.records.filter((r) => r.value.messageId === id && r.value.workspaceId === WS);

it('refuses calls without a valid API key', async () => {
  expect((await api('GET', '/v1/settings', undefined, {})).status).toBe(401);
  expect((await api('GET', '/v1/dlq', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
  expect((await api('GET', '/v1/tracking-plans', undefined, {})).status).toBe(401);
});

it('reads and replaces the settings; new events are cleaned with them', () =>
  withLogs(async () => {
    expect(await json(await api('GET', '/v1/settings'))).toEqual({ defaultRegion: 'US', anonymizeIp: false, consent: [], pii: [] });
    const bad = await json<{ message: string }>(await api('PUT', '/v1/settings', { defaultRegion: 'XX' }), 400);
    expect(bad.message).toMatch(/defaultRegion/);
    expect((await json<{ message: string }>(await api('PUT', '/v1/settings', { colour: 'red' }), 400)).message).toMatch(/colour/);
    const replaced = { defaultRegion: 'DE', anonymizeIp: true, consent: [], pii: [] };
    expect(await json(await api('PUT', '/v1/settings', { defaultRegion: 'de', anonymizeIp: true }))).toEqual({ ...replaced, warnings: [] });
    expect(await json(await api('GET', '/v1/settings'))).toEqual(replaced);

    const id = `m-settings-${scope.id}`;
    await sendJson(`${WS}:u1`, {
      type: 'identify',
      userId: 'u1',
      messageId: id,
      traits: { phone: '030 1234567' },
      context: { ip: '203.0.113.7' },
    });
    const { value } = await stack.normalized.waitForRecord((e) => e.messageId === id, 'the identify cleaned with the new settings');
    expect(JSON.parse(value.traits)).toEqual({ phone: '+49301234567' });
    expect(JSON.parse(value.context)).toMatchObject({ ip: '203.0.113.0' });
  }));

it('manages tracking plans per event and for identify traits, refusing schemas ajv cannot compile', () =>
  withLogs(async () => {
    // Concurrent changes of one plan, from its creation on, all land (compare-and-set on its version).
    const names = ['C1', 'C2', 'C3', 'C4', 'C5'];
    const puts = await Promise.all(names.map((n) => api('PUT', `/v1/tracking-plans/${n}`, { schema: { type: 'object' } })));
    expect(puts.map((r) => r.status)).toEqual(names.map(() => 200));
    const created = await json<{ events: { name: string }[] }>(await api('GET', '/v1/tracking-plans'));
    expect(created.events.map((e) => e.name)).toEqual(names);
    const deletes = await Promise.all(names.map((n) => api('DELETE', `/v1/tracking-plans/${n}`)));
    expect(deletes.map((r) => r.status)).toEqual(names.map(() => 204));

    const broken = await json<{ message: string }>(await api('PUT', '/v1/tracking-plans/Broken', { schema: { type: 'nonsense' } }), 400);
    expect(broken.message).toMatch(/invalid JSON Schema: .*type/);
    expect((await api('PUT', '/v1/tracking-plans/Broken', { schema: ORDER_SCHEMA, mode: 'reject' })).status).toBe(400);
    // A pattern any write key could stall the pipeline with: refused, saying where it is.
    const slow = { type: 'object', properties: { a: { type: 'string', pattern: '^(a+)+$' } } };
    const redos = await json<{ message: string }>(await api('PUT', '/v1/tracking-plans/Broken', { schema: slow }), 400);
    expect(redos.message).toMatch(/pattern at #\/properties\/a\/pattern/);
    expect((await api('GET', '/v1/tracking-plans/Broken')).status).toBe(404);

    const put = await json(await api('PUT', `/v1/tracking-plans/${encodeURIComponent('Signed Up')}`, { schema: { type: 'object' } }));
    expect(put).toEqual({ name: 'Signed Up', mode: 'flag', schema: { type: 'object' } });
    expect(await json(await api('PUT', '/v1/tracking-plans/identify/traits', { schema: { type: 'object' }, mode: 'block' }))).toEqual({
      mode: 'block',
      schema: { type: 'object' },
    });
    const plan = await json<{ events: { name: string }[]; traits: unknown; mode: string }>(await api('GET', '/v1/tracking-plans'));
    expect(plan.events.map((e) => e.name)).toEqual(['Signed Up']);
    expect(plan.traits).toEqual({ mode: 'block', schema: { type: 'object' } });

    expect((await api('DELETE', '/v1/tracking-plans/identify/traits')).status).toBe(204);
    expect((await api('GET', '/v1/tracking-plans/identify/traits')).status).toBe(404);
    expect((await api('DELETE', `/v1/tracking-plans/${encodeURIComponent('Signed Up')}`)).status).toBe(204);
    expect((await api('DELETE', `/v1/tracking-plans/${encodeURIComponent('Signed Up')}`)).status).toBe(404);
  }));

it('dead-letters a blocked event, lists it by reason, and a replay after the fix has its effect exactly once', () =>
  withLogs(async () => {
    await json(await api('PUT', `/v1/tracking-plans/${encodeURIComponent('Order Completed')}`, { schema: ORDER_SCHEMA, mode: 'block' }));
    const id = `m-blocked-${scope.id}`;
    const key = `${WS}:buyer`;
    await sendJson(key, { type: 'track', event: 'Order Completed', userId: 'buyer', messageId: id, properties: { currency: 'EUR' } });
    // Another workspace's reject, which the demo workspace must not see.
    await sendJson(`${OTHER}:x`, { type: 'track', userId: 'x', messageId: `m-other-${scope.id}` });
    await stack.dlq.waitForRecord((l) => l.workspaceId === OTHER, 'the other workspace letter');

    const listing = await waitFor(async () => {
      const body = await json<{
        total: number;
        replayed: number;
        counts: { reason: string; stage: string; count: number; replayed: number }[];
        entries: Record<string, unknown>[];
      }>(await api('GET', '/v1/dlq?reason=tracking_plan_violation&since=1h'));
      return body.total > 0 ? body : undefined;
    }, 'the blocked event in the DLQ listing');
    expect(listing.counts).toEqual([{ reason: 'tracking_plan_violation', stage: 'normalizer', count: 1, replayed: 0 }]);
    expect(listing.replayed).toBe(0);
    expect(listing.entries).toHaveLength(1);
    expect(listing.entries[0]).toMatchObject({ reason: 'tracking_plan_violation', sourceTopic: stack.rawTopic, stage: 'normalizer' });
    expect(listing.entries[0]?.['message']).toMatch(/total/);
    expect(Object.keys(listing.entries[0] ?? {})).not.toEqual(expect.arrayContaining(['originalValue']));
    expect(JSON.stringify(listing)).not.toContain('buyer');

    const all = await json<{ counts: { reason: string }[] }>(await api('GET', '/v1/dlq'));
    expect(all.counts.map((c) => c.reason)).toEqual(['tracking_plan_violation']);
    expect((await api('GET', '/v1/dlq?since=yesterday')).status).toBe(400);
    expect(copiesOf(id)).toHaveLength(0);

    // Fix the plan (flag: pass with violations noted), then replay, twice.
    await json(await api('PUT', `/v1/tracking-plans/${encodeURIComponent('Order Completed')}`, { schema: ORDER_SCHEMA, mode: 'flag' }));
    expect(await json(await api('POST', '/v1/dlq/replay', { reason: 'tracking_plan_violation', since: '1h' }))).toEqual({
      replayed: 1,
      skipped: 0,
      replayedBefore: 0,
    });
    const replayed = await stack.normalized.waitForRecord((e) => e.messageId === id, 'the replayed event');
    expect(replayed.value.violations).toEqual(["properties must have required property 'total'"]);
    // Listed with its messageId, and as replayed; the next replay leaves it out unless asked again.
    const after = await json<{ total: number; replayed: number; counts: unknown[]; entries: Record<string, unknown>[] }>(
      await api('GET', '/v1/dlq?reason=tracking_plan_violation'),
    );
    expect(after.entries[0]).toMatchObject({ messageId: id, replayedAt: expect.any(String) });
    expect(after).toMatchObject({
      total: 1,
      replayed: 1,
      counts: [{ reason: 'tracking_plan_violation', stage: 'normalizer', count: 1, replayed: 1 }],
    });
    expect(await json(await api('POST', '/v1/dlq/replay', { reason: 'tracking_plan_violation' }))).toEqual({
      replayed: 0,
      skipped: 0,
      replayedBefore: 1,
    });

    expect(await json(await api('POST', '/v1/dlq/replay', { reason: 'tracking_plan_violation', again: true }))).toEqual({
      replayed: 1,
      skipped: 0,
      replayedBefore: 0,
    });
    // Same key, same partition: once the sentinel is out, the second replay has been handled.
    const sentinel = `m-sentinel-${scope.id}`;
    await sendJson(key, { type: 'track', event: 'Other', userId: 'buyer', messageId: sentinel });
    await stack.normalized.waitForRecord((e) => e.messageId === sentinel, 'the sentinel');
    expect(copiesOf(id)).toHaveLength(1);
    const metrics = await metricsOf(stack.normalizer);
    expect(metrics).toMatch(/cdp_normalizer_duplicates_total\{[^}]*\} 1\b/);

    // A filter that matches nothing replays nothing.
    expect(await json(await api('POST', '/v1/dlq/replay', { reason: 'missing_event' }))).toEqual({
      replayed: 0,
      skipped: 0,
      replayedBefore: 0,
    });
    expect((await api('POST', '/v1/dlq/replay', { again: 'yes' })).status).toBe(400);
    expect((await api('POST', '/v1/dlq/replay', { reason: 'x', limit: 0 })).status).toBe(400);
  }));

it('drops events without the consent the workspace requires, and hashes, encrypts or drops PII fields before producing', () =>
  withLogs(async () => {
    const settings = await json(
      await api('PUT', '/v1/settings', {
        consent: [
          { event: '*', categories: ['analytics'] },
          { event: 'Order Completed', categories: ['marketing'] },
        ],
        pii: [
          { path: 'traits.email', action: 'hash' },
          { path: 'traits.phone', action: 'drop' },
          { path: 'traits.nickname', action: 'encrypt' },
        ],
      }),
    );
    expect(settings).toEqual({
      defaultRegion: 'US',
      anonymizeIp: false,
      consent: [
        { event: '*', categories: ['analytics'] },
        { event: 'Order Completed', categories: ['marketing'] },
      ],
      pii: [
        { path: 'traits.email', action: 'hash' },
        { path: 'traits.phone', action: 'drop' },
        { path: 'traits.nickname', action: 'encrypt' },
      ],
      warnings: [],
    });
    expect(JSON.stringify(await json(await api('GET', '/v1/settings')))).not.toMatch(/salt/i);
    expect(
      (await json<{ message: string }>(await api('PUT', '/v1/settings', { pii: [{ path: 'userId', action: 'hash' }] }), 400)).message,
    ).toMatch(/pii\[0\]\.path/);

    const key = `${WS}:person`;
    const analytics = { consent: { categoryPreferences: { analytics: true, marketing: false } } };
    const ids = { first: `m-pii1-${scope.id}`, second: `m-pii2-${scope.id}`, order: `m-order-${scope.id}`, none: `m-none-${scope.id}` };
    const traits = { email: 'Jane@Example.com', phone: '+14155552671', plan: 'pro', nickname: 'JJ' };
    await sendJson(key, { type: 'identify', userId: 'person', messageId: ids.first, traits, context: analytics });
    await sendJson(key, {
      type: 'track',
      event: 'Order Completed',
      userId: 'person',
      messageId: ids.order,
      properties: { total: 3 },
      context: analytics,
    });
    await sendJson(key, { type: 'page', userId: 'person', messageId: ids.none, properties: {} });
    await sendJson(key, { type: 'identify', userId: 'person', messageId: ids.second, traits, context: analytics });

    const second = await stack.normalized.waitForRecord((e) => e.messageId === ids.second, 'the second identify');
    const first = await stack.normalized.waitForRecord((e) => e.messageId === ids.first, 'the first identify');
    const { nickname, ...hashed } = JSON.parse(first.value.traits) as Record<string, unknown>;
    expect(hashed).toEqual({ email: expect.stringMatching(/^[0-9a-f]{64}$/), plan: 'pro' });
    // Encrypted with the workspace's key: readable with it, a fresh ciphertext per event.
    expect(new PiiCipher(Buffer.from(PII_KEY, 'base64')).decrypt(WS, nickname as string)).toBe('JJ');
    const { nickname: again, ...hashedAgain } = JSON.parse(second.value.traits) as Record<string, unknown>;
    expect(hashedAgain).toEqual(hashed);
    expect(again).not.toBe(nickname);
    expect(JSON.stringify(stack.normalized.records.filter((r) => r.value.workspaceId === WS))).not.toContain('jane@example.com');
    // Dropped, not dead-lettered: neither the marketing-less order nor the page without any consent.
    expect(copiesOf(ids.order)).toHaveLength(0);
    expect(copiesOf(ids.none)).toHaveLength(0);
    expect(stack.dlq.records.some((r) => [ids.order, ids.none].some((id) => r.value.originalValue?.toString('utf8').includes(id)))).toBe(
      false,
    );
    const metrics = await metricsOf(stack.normalizer);
    expect(metrics).toMatch(/cdp_normalizer_events_total\{[^}]*outcome="consent_dropped"[^}]*\} 2\b/);
    expect(metrics).toMatch(/cdp_normalizer_events_total\{[^}]*outcome="dlq",reason="tracking_plan_violation"[^}]*\} 1\b/);
    for (const stage of ['clean', 'dedupe', 'produce'])
      expect(metrics).toMatch(new RegExp(`cdp_normalizer_stage_seconds_count\\{[^}]*stage="${stage}"[^}]*\\} [1-9]`));

    // A replacement that leaves the rules out says which ones it drops.
    const { warnings } = await json<{ warnings: string[] }>(await api('PUT', '/v1/settings', { defaultRegion: 'US' }));
    expect(warnings).toEqual([
      expect.stringMatching(/^pii: "hash traits.email" is gone/),
      expect.stringMatching(/^pii: "drop traits.phone" is gone/),
      expect.stringMatching(/^pii: "encrypt traits.nickname" is gone/),
      expect.stringMatching(/^consent: "\*: analytics" is gone/),
      expect.stringMatching(/^consent: "Order Completed: marketing" is gone/),
    ]);
  }));
