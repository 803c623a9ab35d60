import { connect } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { Topics, type RawEvent } from '@cdp/contracts';
import { startService, testScope, TopicReader, type RunningService } from '@cdp/testing';

/**
 * What Segment SDKs send, reproduced request by request (the SDKs themselves are not installed):
 * analytics.js (analytics-next) posts text/plain to /v1/<initial> and /v1/b with the write key in
 * the body, after a CORS preflight; the Node SDK posts JSON batches with Basic auth; pages send
 * beacons with credentials. Each case is checked on cdp.events.raw.v1 field by field.
 */
const scope = testScope('collcompat');
const PORT = 16_000 + Math.floor(Math.random() * 900);
const WRITE_KEY = 'dev-write-key';
const ORIGIN = 'https://shop.example';
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
let collector: RunningService;
let raw: TopicReader<RawEvent>;

beforeAll(async () => {
  collector = await startService('collector', PORT, { ...scope.env, CDP_TRUSTED_PROXIES: 'loopback' });
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
}, 90_000);
afterAll(async () => {
  await raw?.stop();
  await collector?.stop();
});

const uid = (label: string) => `${label}-${scope.id}-${Math.random().toString(36).slice(2, 8)}`;
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const payloadOf = (r: RawEvent): Record<string, unknown> & { context: Record<string, unknown> } => JSON.parse(r.payload);
const onTopic = async (messageId: string) =>
  (await raw.waitForRecord((v) => v.messageId === messageId, `${messageId} on the raw topic`)).value;
const receivedAtMs = (r: RawEvent): number => new Date(r.receivedAt as unknown as number | string | Date).getTime();

/** The body analytics-next builds for one call (normalize(): writeKey, sentAt, context, _metadata). */
const ajsEvent = (type: string, fields: Record<string, unknown>) => ({
  type,
  anonymousId: uid('anon'),
  messageId: `ajs-next-${uid('m')}`,
  timestamp: new Date().toISOString(),
  integrations: {},
  context: {
    library: { name: 'analytics.js', version: 'npm:next-1.70.0' },
    page: { path: '/cart', url: `${ORIGIN}/cart`, title: 'Cart', referrer: '' },
    userAgent: BROWSER_UA,
    locale: 'de-DE',
  },
  writeKey: WRITE_KEY,
  sentAt: new Date().toISOString(),
  _metadata: { bundled: ['Segment.io'], unbundled: [], bundledIds: [] },
  ...fields,
});

const send = (path: string, body: string | Buffer, headers: Record<string, string>) =>
  fetch(`${collector.url}${path}`, { method: 'POST', headers, body });

/** Segment's error codes beside the message (analytics-python reports `code` and `message`). */
const CODES: Record<number, string> = { 400: 'bad_request', 401: 'unauthorized', 408: 'request_timeout', 415: 'unsupported_media_type' };

const expectError = async (res: Response, status: number, message: string | RegExp) => {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { message: string; code: string };
  expect(body.message).toMatch(message);
  expect(body.code).toBe(CODES[status]);
};

describe('analytics.js in a browser', () => {
  it('answers the CORS preflight with the origin, credentials and the requested headers', async () => {
    const res = await fetch(`${collector.url}/v1/t`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,anonymousid',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toBe('content-type,anonymousid');
    expect(res.headers.get('access-control-max-age')).toBe('86400');
  });

  it('takes a text/plain call with the write key in the body, on the short path', async () => {
    const event = ajsEvent('track', { event: 'Product Added', properties: { sku: 'A-1', price: 9.5 } });
    const before = Date.now();
    const res = await send('/v1/t', JSON.stringify(event), { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': BROWSER_UA });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);

    const record = await onTopic(event.messageId);
    expect(record).toMatchObject({ workspaceId: 'demo', sourceId: 'demo-source', messageId: event.messageId, type: 'track' });
    expect(receivedAtMs(record)).toBeGreaterThanOrEqual(before - 1_000);
    expect(receivedAtMs(record)).toBeLessThanOrEqual(Date.now());
    const payload = payloadOf(record);
    expect(payload).toMatchObject({ event: 'Product Added', properties: { sku: 'A-1', price: 9.5 }, anonymousId: event.anonymousId });
    expect(payload.context).toMatchObject({ library: event.context.library, page: event.context.page, userAgent: BROWSER_UA });
    // The socket's IPv4-mapped form (::ffff:127.0.0.1) is stored as the IPv4 address it is.
    expect(payload.context['ip']).toBe('127.0.0.1');
    expect(payload['receivedAt']).toBe(new Date(receivedAtMs(record)).toISOString());
    expect(JSON.stringify(payload)).not.toContain(WRITE_KEY);
  });

  it('takes the batched dispatcher (/v1/b) and assigns a messageId where one is missing', async () => {
    // Batched events carry no sentAt of their own (an event's own would win over the batch's).
    const { sentAt: _own, ...identify } = ajsEvent('identify', { userId: uid('user'), traits: { plan: 'pro' } });
    const { messageId: _none, ...page } = ajsEvent('page', { name: 'Cart', properties: { path: '/cart' } });
    const sentAt = new Date(Date.now() + 1_000).toISOString();
    const res = await send('/v1/b', JSON.stringify({ writeKey: WRITE_KEY, batch: [identify, page], sentAt }), {
      'content-type': 'text/plain',
      origin: ORIGIN,
    });
    expect(res.status).toBe(200);
    // The batch's sentAt goes with each event, for the normalizer's clock-skew correction.
    expect(payloadOf(await onTopic(identify.messageId))).toMatchObject({ traits: { plan: 'pro' }, sentAt });
    const assigned = await raw.waitForRecord((v) => v.type === 'page' && payloadOf(v)['anonymousId'] === page.anonymousId, 'the page');
    expect(assigned.value.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(payloadOf(assigned.value)['messageId']).toBe(assigned.value.messageId);
  });

  it('takes a sendBeacon request (text/plain;charset=UTF-8, with credentials)', async () => {
    const event = ajsEvent('page', { name: 'Leaving' });
    const res = await send('/v1/p', JSON.stringify(event), {
      'content-type': 'text/plain;charset=UTF-8',
      origin: ORIGIN,
      cookie: 'ajs_anonymous_id=abc',
    });
    expect(res.status).toBe(200);
    // A credentialed response must name the origin, never "*".
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect((await onTopic(event.messageId)).type).toBe('page');
  });
});

describe('a server-side SDK', () => {
  it('takes a gzipped JSON batch with Basic auth; context.ip from X-Forwarded-For behind a trusted proxy', async () => {
    const userId = uid('user');
    const batch = [
      { type: 'identify', userId, messageId: uid('m'), traits: { email: 'jane@example.com' }, timestamp: new Date().toISOString() },
      { type: 'track', userId, messageId: uid('m'), event: 'Order Completed', properties: { total: 120 } },
      { type: 'group', userId, messageId: uid('m'), groupId: 'g-1', traits: { name: 'Acme' } },
      { type: 'alias', userId, messageId: uid('m'), previousId: 'old-id' },
      { type: 'screen', userId, messageId: uid('m'), name: 'Home' },
    ];
    const body = gzipSync(JSON.stringify({ batch, context: { library: { name: 'analytics-node-next', version: '2.1.0' } } }));
    const res = await send('/v1/batch', body, {
      authorization: basic(WRITE_KEY),
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'user-agent': 'analytics-node-next/2.1.0',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(res.status).toBe(200);
    for (const sent of batch) {
      const record = await onTopic(sent.messageId);
      expect(record).toMatchObject({ workspaceId: 'demo', sourceId: 'demo-source', type: sent.type });
      const payload = payloadOf(record);
      expect(payload).toMatchObject(sent);
      expect(payload.context).toEqual({
        library: { name: 'analytics-node-next', version: '2.1.0' },
        ip: '203.0.113.9',
        userAgent: 'analytics-node-next/2.1.0',
      });
    }
  });
});

describe('bodies as other clients send them', () => {
  const auth = { authorization: basic(WRITE_KEY), 'content-type': 'application/json' };

  it('takes a brotli body, and a body that starts with a UTF-8 byte order mark', async () => {
    const brotli = { userId: uid('user'), messageId: uid('m'), event: 'Compressed' };
    expect((await send('/v1/track', brotliCompressSync(JSON.stringify(brotli)), { ...auth, 'content-encoding': 'br' })).status).toBe(200);
    const bom = { userId: uid('user'), messageId: uid('m'), event: 'From Windows' };
    expect((await send('/v1/track', Buffer.from(`\uFEFF${JSON.stringify(bom)}`, 'utf8'), auth)).status).toBe(200);
    for (const sent of [brotli, bom]) expect(payloadOf(await onTopic(sent.messageId))).toMatchObject(sent);
  });

  it('names the encoding a body does not decode as, and refuses encodings it cannot read', async () => {
    const body = JSON.stringify({ userId: 'u', event: 'E' });
    await expectError(await send('/v1/track', body, { ...auth, 'content-encoding': 'gzip' }), 400, /^request body is not valid gzip data/);
    await expectError(await send('/v1/track', body, { ...auth, 'content-encoding': 'compress' }), 415, 'send gzip, deflate, br or none');
  });
});

describe('bad requests', () => {
  const auth = { authorization: basic(WRITE_KEY), 'content-type': 'application/json' };

  it('names the 32 KB per-event limit', async () => {
    const body = JSON.stringify({ userId: 'u', event: 'Big', properties: { blob: 'x'.repeat(33 * 1024) } });
    await expectError(await send('/v1/track', body, auth), 400, /over the 32 KB per-event limit/);
  });

  it("names the normalizer's depth and key limits rather than accept an event it would dead-letter", async () => {
    const deep = JSON.stringify({ userId: 'u', event: 'Deep', properties: JSON.parse(`${'{"a":'.repeat(11)}1${'}'.repeat(11)}`) });
    await expectError(await send('/v1/track', deep, auth), 400, 'properties is nested deeper than 10 levels');
    const wide = JSON.stringify({ userId: 'u', traits: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`t${i}`, i])) });
    await expectError(await send('/v1/identify', wide, auth), 400, 'traits has more than 1000 keys (nested ones included)');
  });

  it('names the 500 KB per-request limit, plain and as a gzip bomb', async () => {
    const events = Array.from({ length: 26 }, (_, i) => ({
      type: 'track',
      userId: 'u',
      event: 'E',
      properties: { i, pad: 'x'.repeat(20_000) },
    }));
    const body = JSON.stringify({ batch: events });
    expect(Buffer.byteLength(body)).toBeGreaterThan(500 * 1024);
    await expectError(await send('/v1/batch', body, auth), 400, /500 KB per-request limit/);
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(100 * 1024);
    await expectError(await send('/v1/batch', bomb, { ...auth, 'content-encoding': 'gzip' }), 400, /500 KB per-request limit/);
  });

  it('refuses an over-limit Content-Length at once, without waiting for the body', async () => {
    const { hostname, port } = new URL(collector.url);
    const started = Date.now();
    // A partial body: were it read first, the answer would be the 408 of the request timeout (10 s).
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(
          `POST /v1/batch HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${auth.authorization}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{"batch":[',
        ),
      );
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/500 KB per-request limit/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('says what is wrong with malformed JSON, wrong types and missing ids', async () => {
    await expectError(await send('/v1/track', '{"userId": "u", "event": ', auth), 400, /not valid JSON/);
    await expectError(await send('/v1/track', '', auth), 400, /body is empty/);
    await expectError(
      await send('/v1/track', JSON.stringify({ userId: 'u', event: 'E', properties: 'x' }), auth),
      400,
      /properties must be an object/,
    );
    await expectError(await send('/v1/identify', JSON.stringify({ traits: { a: 1 } }), auth), 400, /userId or anonymousId is required/);
    await expectError(await send('/v1/nope', JSON.stringify({ userId: 'u' }), auth), 400, /unknown call/);
  });

  it('refuses a missing or unknown write key with 401', async () => {
    await expectError(
      await send('/v1/track', JSON.stringify({ userId: 'u', event: 'E' }), { 'content-type': 'application/json' }),
      401,
      /write key required/,
    );
    await expectError(
      await send('/v1/track', JSON.stringify({ userId: 'u', event: 'E' }), { ...auth, authorization: basic('wk_unknown') }),
      401,
      /write key is not valid/,
    );
    await expectError(
      await send('/v1/t', JSON.stringify({ userId: 'u', event: 'E', writeKey: 'wk_unknown' }), { 'content-type': 'text/plain' }),
      401,
      /write key is not valid/,
    );
  });

  it('refuses a whole batch with one invalid event, names it, and writes nothing of it', async () => {
    const userId = uid('user');
    const bad = [
      { type: 'track', userId, messageId: uid('bad'), event: 'Fine' },
      { type: 'track', userId, messageId: uid('bad') },
      { type: 'identify', userId, messageId: uid('bad') },
    ];
    await expectError(await send('/v1/batch', JSON.stringify({ batch: bad }), auth), 400, 'batch[1].event is required for track');
    // Same userId, so same key and partition: once this one is on the topic, anything sent before it would be too.
    const marker = { type: 'track', userId, messageId: uid('marker'), event: 'Marker' };
    expect((await send('/v1/batch', JSON.stringify({ batch: [marker] }), auth)).status).toBe(200);
    await onTopic(marker.messageId);
    const badIds = new Set(bad.map((m) => m.messageId));
    expect(raw.records.filter((r) => badIds.has(r.value.messageId))).toEqual([]);
  });
});
