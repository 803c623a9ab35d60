import { Topics, type RawEvent } from '@cdp/contracts';
import { startService, testScope, TopicReader, type RunningService } from '@cdp/testing';

/**
 * Webhook sources (a per-source mapping managed over the admin API) and the tracking pixel, on
 * the built collector, checked on cdp.events.raw.v1.
 */
const scope = testScope('collhook');
const ADMIN_TOKEN = `admin-token-${scope.id}-0123456789`;
const PORT = 20_000 + Math.floor(Math.random() * 900);
const WS = 'demo';
const SOURCE = 'demo-source';
const WRITE_KEY = 'dev-write-key';
let collector: RunningService;
let raw: TopicReader<RawEvent>;

beforeAll(async () => {
  collector = await startService('collector', PORT, { ...scope.env, CDP_ADMIN_TOKEN: ADMIN_TOKEN });
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
}, 90_000);
afterAll(async () => {
  await raw?.stop();
  await collector?.stop();
});

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const mappingPath = (source = SOURCE) => `/v1/admin/workspaces/${WS}/sources/${source}/webhook-mapping`;
const admin = async (method: string, path: string, body?: unknown, bearer: string | null = ADMIN_TOKEN) => {
  const res = await fetch(`${collector.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Record<string, unknown>) };
};
const hook = (payload: unknown, { source = SOURCE, key = WRITE_KEY, inQuery = false } = {}) =>
  fetch(`${collector.url}/v1/webhooks/${source}${inQuery ? `?writeKey=${encodeURIComponent(key)}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(inQuery ? {} : { authorization: basic(key) }) },
    body: JSON.stringify(payload),
  });
const answer = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });
const payloadsOf = (pred: (p: Record<string, unknown>) => boolean) =>
  raw.records
    .map((r) => ({ record: r.value, payload: JSON.parse(r.value.payload) as Record<string, unknown> }))
    .filter(({ payload }) => pred(payload));

const MAPPING = {
  type: 'track',
  event: '/event_name',
  userId: '/user/id',
  properties: '/data',
  'properties.via': { const: 'billing-tool' },
  timestamp: '/occurred_at',
};

describe('webhook sources', () => {
  it("manages a source's mapping over the admin API, refusing bad mappings with a message per field", async () => {
    expect((await admin('GET', mappingPath())).status).toBe(404);
    expect(await admin('PUT', mappingPath(), { event: '/e' })).toEqual({
      status: 400,
      body: expect.objectContaining({ message: expect.stringContaining('mapping.type is required') }),
    });
    expect((await admin('PUT', mappingPath(), { type: 'track', colour: '/c' })).body?.['message']).toMatch(
      /mapping\.colour: not a Segment field/,
    );
    expect((await admin('PUT', mappingPath(), MAPPING, null)).status).toBe(401);
    expect((await admin('PUT', mappingPath('src_nope'), MAPPING)).status).toBe(404);
    expect((await admin('PUT', `/v1/admin/workspaces/ws_nope/sources/${SOURCE}/webhook-mapping`, MAPPING)).status).toBe(404);

    const put = await admin('PUT', mappingPath(), MAPPING);
    expect(put).toEqual({ status: 200, body: { sourceId: SOURCE, mapping: MAPPING, updatedAt: expect.any(String) } });
    expect((await admin('GET', mappingPath())).body).toEqual(put.body);
  });

  it('maps a payload to a Segment call on the raw topic; a re-delivery has the same messageId', async () => {
    const payload = {
      event_name: 'Invoice Paid',
      user: { id: `cust-${scope.id}` },
      data: { amount: 120, currency: 'EUR' },
      occurred_at: '2026-05-01T10:00:00Z',
    };
    expect(await answer(await hook(payload))).toEqual({ status: 200, body: { success: true, events: 1 } });
    const { value } = await raw.waitForRecord((v) => JSON.parse(v.payload).userId === `cust-${scope.id}`, 'the webhook event');
    expect(value).toMatchObject({
      workspaceId: WS,
      sourceId: SOURCE,
      type: 'track',
      messageId: expect.stringMatching(/^webhook-[0-9a-f]{32}$/),
    });
    expect(JSON.parse(value.payload)).toMatchObject({
      type: 'track',
      event: 'Invoice Paid',
      userId: `cust-${scope.id}`,
      properties: { amount: 120, currency: 'EUR', via: 'billing-tool' },
      timestamp: '2026-05-01T10:00:00Z',
      context: { library: { name: 'cdp-webhook', version: '1' } },
    });

    // Delivered again (senders retry), with the key in the query string this time.
    expect((await hook(payload, { inQuery: true })).status).toBe(200);
    await raw.waitForRecord((v) => v.messageId === value.messageId && v !== value, 'the re-delivery');
    const ids = new Set(payloadsOf((p) => p['userId'] === `cust-${scope.id}`).map((e) => e.record.messageId));
    expect(ids).toEqual(new Set([value.messageId]));

    // An array is a list of payloads.
    const list = [1, 2].map((n) => ({ event_name: `E${n}`, user: { id: `list-${scope.id}` }, data: { n } }));
    expect(await answer(await hook(list))).toEqual({ status: 200, body: { success: true, events: 2 } });
  });

  it('refuses a payload without a mapped required field, or with a key of another source, and produces nothing', async () => {
    const tag = `bad-${scope.id}`;
    expect(await answer(await hook({ user: { id: tag }, data: {} }))).toMatchObject({
      status: 400,
      body: { message: "event is missing: the mapping's pointer /event_name found nothing in the payload" },
    });
    expect(await answer(await hook([{ event_name: 'ok', user: { id: tag } }, { event_name: 'no user' }]))).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/^\[1\] userId is missing: the mapping's pointer \/user\/id found nothing/) },
    });
    expect((await answer(await hook({ event_name: 'x', user: { id: tag }, data: 'text' }))).body['message']).toBe(
      "properties must be an object: the mapping's pointer /data found a string",
    );
    expect(await answer(await hook('a JSON string'))).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/^payload is not a JSON object, so userId is missing: /) },
    });

    const other = await admin('POST', `/v1/admin/workspaces/${WS}/sources`, { name: 'other' });
    const otherKey = String(other.body?.['writeKey']);
    expect(await answer(await hook({ event_name: 'x', user: { id: tag } }, { key: otherKey }))).toEqual({
      status: 401,
      body: expect.objectContaining({ message: 'write key is not valid for this source' }),
    });
    expect(
      await answer(await hook({ event_name: 'x', user: { id: tag } }, { source: String(other.body?.['sourceId']), key: otherKey })),
    ).toMatchObject({
      status: 404,
      body: { message: expect.stringContaining('this source has no webhook mapping') },
    });
    expect((await hook({ event_name: 'x', user: { id: tag } }, { key: 'wk_unknown' })).status).toBe(401);

    expect((await admin('DELETE', mappingPath(String(other.body?.['sourceId'])))).status).toBe(404);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(payloadsOf((p) => p['userId'] === tag)).toEqual([]);
  });
});

describe('tracking pixel', () => {
  const pixel = (call: string, data: string) => fetch(`${collector.url}/v1/pixel/${call}?data=${encodeURIComponent(data)}`);
  const b64 = (v: unknown, url = false) => Buffer.from(JSON.stringify(v)).toString(url ? 'base64url' : 'base64');

  it('answers a 1x1 GIF once the event is on the raw topic (standard and URL-safe base64)', async () => {
    const open = {
      writeKey: WRITE_KEY,
      userId: `reader-${scope.id}`,
      event: 'Email Opened',
      properties: { campaign: 'spring?&/+' },
      messageId: `px-${scope.id}`,
    };
    const res = await pixel('track', b64(open));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(res.headers.get('cache-control')).toContain('no-store');
    const gif = Buffer.from(await res.arrayBuffer());
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    expect(gif.readUInt16LE(6)).toBe(1);
    expect(gif.readUInt16LE(8)).toBe(1);
    const { value } = await raw.waitForRecord((v) => v.messageId === `px-${scope.id}`, 'the pixel event');
    expect(value).toMatchObject({ workspaceId: WS, sourceId: SOURCE, type: 'track' });
    const payload = JSON.parse(value.payload);
    expect(payload).toMatchObject({
      type: 'track',
      userId: `reader-${scope.id}`,
      event: 'Email Opened',
      properties: { campaign: 'spring?&/+' },
    });
    expect(payload.writeKey).toBeUndefined();

    const page = { writeKey: WRITE_KEY, anonymousId: `anon-${scope.id}`, name: 'Newsletter', messageId: `px-page-${scope.id}` };
    expect((await pixel('page', b64(page, true))).status).toBe(200);
    expect(
      JSON.parse((await raw.waitForRecord((v) => v.messageId === `px-page-${scope.id}`, 'the page pixel')).value.payload),
    ).toMatchObject({
      type: 'page',
      anonymousId: `anon-${scope.id}`,
      name: 'Newsletter',
    });
  });

  it('refuses bad data with a 400 that says why, a bad key with a 401, and produces nothing', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['track', '', 400, /data is required/],
      ['track', '!!!', 400, /data is not base64/],
      ['track', Buffer.from('{"userId":').toString('base64'), 400, /data is not base64 of a JSON object/],
      ['track', b64([1, 2]), 400, /data must encode a JSON object/],
      ['track', b64({ writeKey: WRITE_KEY, userId: `px-bad-${scope.id}` }), 400, /event is required for track/],
      ['purchase', b64({ writeKey: WRITE_KEY, userId: `px-bad-${scope.id}` }), 400, /unknown call/],
      ['track', b64({ userId: `px-bad-${scope.id}`, event: 'x' }), 401, /write key required/],
      ['track', b64({ writeKey: 'wk_nope', userId: `px-bad-${scope.id}`, event: 'x' }), 401, /write key is not valid/],
    ];
    for (const [call, data, status, message] of cases) {
      const res = await pixel(call, data);
      expect([call, data, res.status]).toEqual([call, data, status]);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    expect(payloadsOf((p) => p['userId'] === `px-bad-${scope.id}`)).toEqual([]);
  });
});
