import fc from 'fast-check';
import { enrich, InvalidMessageError, MAX_EVENT_BYTES, messagesOf, partitionId, prepareEvents } from './segment-message';

const edge = { receivedAt: new Date('2026-01-01T00:00:00Z'), ip: '203.0.113.7', userAgent: 'UA/1' };

describe('messagesOf', () => {
  it('takes the route type for single calls', () => {
    expect(messagesOf('track', { userId: 'u', event: 'Signed Up', type: 'page' })[0]?.['type']).toBe('track');
  });

  it('unpacks batches', () => {
    const batch = [
      { type: 'identify', userId: 'u' },
      { type: 'track', anonymousId: 'a', event: 'E' },
    ];
    expect(messagesOf('batch', { batch })).toHaveLength(2);
  });

  it.each([
    ['track', { userId: 'u' }, 'event is required for track'],
    ['identify', { traits: {} }, 'userId or anonymousId is required'],
    ['identify', { userId: true }, 'userId must be a string'],
    ['track', { anonymousId: 'a', event: { name: 'E' } }, 'event must be a string'],
    ['group', { userId: 'u', groupId: ['g'] }, 'groupId must be a string'],
    ['group', { userId: 'u' }, 'groupId is required for group'],
    ['alias', { userId: 'u' }, 'previousId is required for alias'],
    ['identify', { userId: 'u', traits: 'x' }, 'traits must be an object'],
    ['batch', { batch: 'x' }, '"batch" must be an array'],
    [
      'batch',
      {
        batch: [
          { type: 'track', userId: 'u', event: 'E' },
          { type: 'oops', userId: 'u' },
        ],
      },
      'batch[1].type must be one of',
    ],
    ['batch', { batch: [{ type: 'track', userId: 'u', event: 'E' }, 'x'] }, /^batch\[1\] must be a JSON object$/],
    ['track', [], /^body must be a JSON object$/],
    [
      'batch',
      { batch: [{ type: 'track', userId: 'u', event: 'E', properties: { a: [[[[[[[[[[[1]]]]]]]]]]] } }] },
      /^batch\[0\]\.properties is nested deeper than 10 levels$/,
    ],
    [
      'identify',
      { userId: 'u', traits: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`t${i}`, 1])) },
      /^traits has more than 1000 keys \(nested ones included\)$/,
    ],
  ] as const)('%s %j -> %s', (route, body, message) => {
    expect(() => messagesOf(route, body)).toThrow(message);
  });

  it('names a wrong type only where the id is required (an extra odd field does not cost the batch)', () => {
    expect(messagesOf('identify', { anonymousId: 'a', userId: false })).toHaveLength(1);
    expect(messagesOf('page', { userId: 'u', event: { name: 'x' } })).toHaveLength(1);
  });

  it('refuses an event over 32 KB and names the limit', () => {
    expect(() => messagesOf('track', { userId: 'u', event: 'E', properties: { big: 'x'.repeat(33_000) } })).toThrow(
      '32 KB per-event limit',
    );
  });

  it('either accepts or throws InvalidMessageError, never anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        try {
          messagesOf('batch', body);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidMessageError);
        }
      }),
    );
  });
});

describe('enrich', () => {
  it('gives an event whose messageId is blank a new one, as one without', () => {
    const ids = ['', '  ', '\t'].map((messageId) => enrich({ type: 'track', userId: 'u', event: 'E', messageId }, edge).messageId);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
  });

  it('adds messageId, receivedAt, ip, user agent and library', () => {
    const m = enrich({ type: 'track', userId: 'u', event: 'E' }, edge);
    expect(m.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(m['receivedAt']).toBe('2026-01-01T00:00:00.000Z');
    expect(m['context']).toEqual({ ip: '203.0.113.7', userAgent: 'UA/1', library: { name: 'unknown', version: 'unknown' } });
  });

  it("stores an IPv4 client's address as IPv4, not in the IPv4-mapped form a dual-stack socket gives", () => {
    expect(enrich({ type: 'page', userId: 'u' }, { ...edge, ip: '::ffff:203.0.113.7' })['context']).toMatchObject({ ip: '203.0.113.7' });
    expect(enrich({ type: 'page', userId: 'u' }, { ...edge, ip: '2001:db8::7' })['context']).toMatchObject({ ip: '2001:db8::7' });
  });

  it('keeps what the sender said', () => {
    const m = enrich(
      { type: 'track', userId: 'u', event: 'E', messageId: 'm-1', context: { ip: '198.51.100.1', library: { name: 'analytics.js' } } },
      edge,
    );
    expect(m.messageId).toBe('m-1');
    expect(m['context']).toMatchObject({ ip: '198.51.100.1', library: { name: 'analytics.js' } });
  });

  it('drops the write key analytics.js puts in each event', () => {
    const m = enrich({ type: 'track', userId: 'u', event: 'E', writeKey: 'wk_secret' }, edge);
    expect(JSON.stringify(m)).not.toContain('wk_secret');
  });

  it('partitions by anonymousId first so a browser stays in order across login', () => {
    expect(partitionId(enrich({ type: 'track', userId: 'u', anonymousId: 'a', event: 'E' }, edge))).toBe('a');
    expect(partitionId(enrich({ type: 'track', userId: 'u', event: 'E' }, edge))).toBe('u');
  });
});

describe('enrich in place', () => {
  it('gives each event of a batch its own context, and leaves the batch context as it was', () => {
    const batchContext = { library: { name: 'analytics-node', version: '3' }, locale: 'de-DE' };
    const [a, b] = [
      { type: 'track', userId: 'u', event: 'A' },
      { type: 'track', userId: 'u', event: 'B', context: { ip: '198.51.100.2' } },
    ].map((m) => enrich(m, edge, { context: batchContext }));
    expect(a?.['context']).not.toBe(b?.['context']);
    expect(a?.['context']).toEqual({ ...batchContext, ip: '203.0.113.7', userAgent: 'UA/1' });
    expect(b?.['context']).toEqual({ ...batchContext, ip: '198.51.100.2', userAgent: 'UA/1' });
    expect(batchContext).toEqual({ library: { name: 'analytics-node', version: '3' }, locale: 'de-DE' });
  });

  it("gives each event of a batch the batch's sentAt unless it has its own", () => {
    const batch = { sentAt: '2026-12-01T03:02:00.000Z' };
    const [a, b] = [
      { type: 'track', userId: 'u', event: 'A', timestamp: '2026-12-01T03:00:00.000Z' },
      { type: 'track', userId: 'u', event: 'B', sentAt: '2026-12-01T03:05:00.000Z' },
    ].map((m) => enrich(m, edge, batch));
    expect([a?.['sentAt'], b?.['sentAt']]).toEqual(['2026-12-01T03:02:00.000Z', '2026-12-01T03:05:00.000Z']);
    expect(enrich({ type: 'track', userId: 'u', event: 'C' }, edge)['sentAt']).toBeUndefined();
  });

  it('keeps the order of the fields, adding the new ones at the end', () => {
    const m = enrich({ messageId: 'm-1', type: 'track', context: {}, userId: 'u', event: 'E', writeKey: 'wk' }, edge);
    expect(Object.keys(m)).toEqual(['messageId', 'type', 'context', 'userId', 'event', 'receivedAt']);
  });
});

describe('prepareEvents', () => {
  const library = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 400 }), fc.record({ name: fc.string() }));
  const context = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.record({ library, ip: fc.option(fc.ipV4(), { nil: undefined }), locale: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }),
  );
  // Around the 32 KB limit, so that enrichment can push an event over it or a dropped field pull it under.
  const event = fc.record(
    {
      type: fc.constant('track'),
      userId: fc.constant('u'),
      event: fc.constant('E'),
      properties: fc.record({ pad: fc.integer({ min: MAX_EVENT_BYTES - 700, max: MAX_EVENT_BYTES + 100 }).map((n) => 'x'.repeat(n)) }),
      messageId: fc.oneof(fc.constant(''), fc.uuid()),
      context,
      writeKey: fc.string({ minLength: 1, maxLength: 300 }),
      receivedAt: fc.string({ maxLength: 300 }),
    },
    { requiredKeys: ['type', 'userId', 'event', 'properties'] },
  );
  const clean = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  it('refuses exactly the events over 32 KB as sent, whatever enrichment adds or drops, and serializes each once', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 4 }), context, (events, batchContext) => {
        const batch = clean(events);
        const over = batch.flatMap((e, i) => (Buffer.byteLength(JSON.stringify(e)) > MAX_EVENT_BYTES ? [i] : []));
        const body = clean({ batch, context: batchContext });
        let prepared;
        try {
          prepared = prepareEvents('batch', body, edge, { context: body.context });
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidMessageError);
          const named = Number(/^batch\[(\d+)\] is \d+ bytes, over the 32 KB per-event limit$/.exec((e as Error).message)?.[1]);
          expect(over).toContain(named);
          return;
        }
        expect(over).toEqual([]);
        for (const p of prepared) expect(p.json).toBe(JSON.stringify(p.message));
      }),
      { numRuns: 300 },
    );
  });

  it('checks single calls the same way', () => {
    const big = { userId: 'u', event: 'E', properties: { pad: 'x'.repeat(MAX_EVENT_BYTES - 100) } };
    expect(() => prepareEvents('track', big, edge)).not.toThrow();
    expect(() => prepareEvents('track', { ...big, properties: { pad: 'x'.repeat(MAX_EVENT_BYTES) } }, edge)).toThrow(
      /^event is \d+ bytes, over the 32 KB per-event limit$/,
    );
  });
});
