import fc from 'fast-check';
import { typedValue } from './column-types';
import {
  importEvent,
  MappingError,
  parseMapParam,
  parseTypesParam,
  recordToIdentify,
  resolveMapping,
  rowToIdentify,
  rowTrack,
} from './csv-mapping';

describe('resolveMapping', () => {
  it('knows common CRM column names and keeps the rest as traits', () => {
    expect(resolveMapping(['Customer ID', 'E-mail', 'First Name', 'Last name', 'Phone Number', 'Plan', 'bad.name'])).toEqual([
      'userId',
      { trait: 'email' },
      { trait: 'firstName' },
      { trait: 'lastName' },
      { trait: 'phone' },
      { trait: 'Plan' },
      { trait: 'bad_name' },
    ]);
  });

  it('keeps any other column as a trait, its name made safe as /v1/identify makes it, never dropping it', () => {
    expect(resolveMapping(['email', 'Straße', 'Zip/Postal Code', 'Notes (internal)', '$score', 'traits.plan', ''])).toEqual([
      { trait: 'email' },
      { trait: 'Straße' },
      { trait: 'Zip/Postal Code' },
      { trait: 'Notes (internal)' },
      { trait: '_score' },
      { trait: 'traits_plan' },
      'skip',
    ]);
    expect(() => resolveMapping(['email', 'x'.repeat(201)])).toThrow('is longer than 200 characters: map it');
  });

  it('lets an explicit map win, and refuses maps that make no sense', () => {
    expect(resolveMapping(['id', 'mail', 'x'], { id: 'userId', x: '-', mail: 'traits.workEmail' })).toEqual([
      'userId',
      { trait: 'workEmail' },
      'skip',
    ]);
    expect(() => resolveMapping(['id'], { nope: 'userId' })).toThrow('not in the header row');
    expect(() => resolveMapping(['id'], { id: 'traits.$x' })).toThrow(MappingError);
    expect(() => resolveMapping(['plan', 'city'])).toThrow('no column maps to userId, anonymousId or email');
    expect(() => resolveMapping(['user_id;email;plan'])).toThrow(
      'the header row is one column split by ";": send the file comma-separated',
    );
    expect(() => resolveMapping(['user_id\temail'])).toThrow('split by "\\t"');
    expect(resolveMapping(['email'])).toEqual([{ trait: 'email' }]);
  });

  it('refuses two columns that go to the same place, unless mapped apart', () => {
    expect(() => resolveMapping(['id', 'Phone', 'Mobile'])).toThrow('"Phone" and "Mobile" both map to traits.phone');
    expect(() => resolveMapping(['id', 'plan', ' plan'])).toThrow('the header names "plan" twice; rename one of the columns in the file');
    expect(() => resolveMapping(['user_id', 'Customer ID'])).toThrow('"user_id" and "Customer ID" both map to userId');
    expect(resolveMapping(['id', 'Phone', 'Mobile', 'x', 'y'], { id: 'userId', Mobile: 'traits.mobile', x: '-', y: '-' })).toEqual([
      'userId',
      { trait: 'phone' },
      { trait: 'mobile' },
      'skip',
      'skip',
    ]);
  });
});

describe('parseMapParam', () => {
  it('reads column:target pairs, columns may contain colons', () => {
    expect(parseMapParam('Kunden-Nr:userId, a:b:traits.x')).toEqual({ 'Kunden-Nr': 'userId', 'a:b': 'traits.x' });
    expect(parseMapParam(undefined)).toEqual({});
    expect(() => parseMapParam('nocolon')).toThrow('<column>:<target>');
  });
});

describe('rowToIdentify', () => {
  const mapping = resolveMapping(['user_id', 'email', 'plan', 'timestamp']);

  it('makes an identify with traits, skipping empty cells', () => {
    const r = rowToIdentify(mapping, ['42', 'jane@example.com', '', '2026-01-02T00:00:00Z'], 'ws/src');
    expect(r).toEqual({
      ok: true,
      message: {
        type: 'identify',
        userId: '42',
        timestamp: '2026-01-02T00:00:00Z',
        traits: { email: 'jane@example.com' },
        messageId: expect.stringMatching(/^import-[0-9a-f]{32}$/),
      },
      properties: {},
      rowId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('derives an anonymousId from the email when there is no id, and rejects rows with neither', () => {
    const a = rowToIdentify(mapping, ['', 'Jane@Example.com', 'pro', ''], 's');
    const b = rowToIdentify(mapping, ['', 'jane@example.com', 'free', ''], 's');
    expect(a.ok && a.message['anonymousId']).toBe(b.ok && b.message['anonymousId']);
    expect(rowToIdentify(mapping, ['', '', 'pro', ''], 's')).toEqual({ ok: false, reason: 'no userId, anonymousId or email' });
    expect(rowToIdentify(mapping, ['1', 'a@b.c'], 's')).toEqual({ ok: false, reason: 'has 2 fields, the header has 4' });
    expect(rowToIdentify(mapping, ['1', '', '', 'yesterday-ish'], 's')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('is not a time'),
    });
  });

  it('gives the same row the same messageId and different rows or sources different ones', () => {
    const mapping = resolveMapping(['user_id', 'email', 'plan', 'city']);
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 4, maxLength: 4 }), fc.array(fc.string(), { minLength: 4, maxLength: 4 }), (x, y) => {
        const rx = rowToIdentify(mapping, ['u', ...x.slice(1)], 's');
        const again = rowToIdentify(mapping, ['u', ...x.slice(1)], 's');
        const otherSource = rowToIdentify(mapping, ['u', ...x.slice(1)], 't');
        const ry = rowToIdentify(mapping, ['u', ...y.slice(1)], 's');
        if (!rx.ok) throw new Error(rx.reason);
        expect(again).toEqual(rx);
        expect(otherSource.ok && otherSource.message['messageId']).not.toBe(rx.message['messageId']);
        if (ry.ok && JSON.stringify(x.slice(1)) !== JSON.stringify(y.slice(1)))
          expect(ry.message['messageId']).not.toBe(rx.message['messageId']);
      }),
    );
  });
});

describe('an import with an event: each row also a track', () => {
  const orders = resolveMapping(
    ['email', 'order id', 'total', 'placed'],
    {
      'order id': 'properties.orderId',
      total: 'properties.total',
      placed: 'timestamp',
    },
    { total: 'number' },
  );

  it('sends properties.<name> columns to the track only, with the identify ids and timestamp', () => {
    const r = rowToIdentify(orders, ['Jane@example.com', 'o-1', '99.5', '2026-01-02T00:00:00Z'], 'ws/src');
    if (!r.ok) throw new Error(r.reason);
    expect(r.message['traits']).toEqual({ email: 'Jane@example.com' });
    expect(rowTrack(r, 'Order Completed')).toEqual({
      type: 'track',
      event: 'Order Completed',
      anonymousId: r.message['anonymousId'],
      timestamp: '2026-01-02T00:00:00Z',
      properties: { orderId: 'o-1', total: 99.5 },
      messageId: expect.stringMatching(/^import-[0-9a-f]{32}$/),
    });
    expect(rowToIdentify(orders, ['a@b.co', 'o-2', 'lots', ''], 's')).toEqual({
      ok: false,
      reason: 'properties.total: "lots" is not a number',
    });
    expect(() => resolveMapping(['id', 'a', 'b'], { a: 'properties.x', b: 'properties.x' })).toThrow(
      '"a" and "b" both map to properties.x',
    );
  });

  it('derives a track messageId per row and event, stable and never the identify one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string(), { minLength: 4, maxLength: 4 }),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        (row, e1, e2) => {
          const r = rowToIdentify(orders, ['a@b.co', ...row.slice(1, 3), ''], 's');
          if (!r.ok) return;
          const t = rowTrack(r, e1);
          expect(rowTrack(r, e1)).toEqual(t);
          expect(t['messageId']).not.toBe(r.message['messageId']);
          if (e1 !== e2) expect(rowTrack(r, e2)['messageId']).not.toBe(t['messageId']);
        },
      ),
    );
  });

  it('gives a row imported again with other types a new identify messageId but the same track messageId', () => {
    const row = ['a@b.co', 'o-1', '12', ''];
    const asText = resolveMapping(['email', 'order id', 'total', 'placed'], { 'order id': 'properties.orderId', total: 'traits.total' });
    const asNumber = resolveMapping(
      ['email', 'order id', 'total', 'placed'],
      { 'order id': 'properties.orderId', total: 'traits.total' },
      { total: 'number' },
    );
    const [a, b] = [rowToIdentify(asText, row, 's'), rowToIdentify(asNumber, row, 's')];
    if (!a.ok || !b.ok) throw new Error('rows refused');
    expect(b.message['traits']).toEqual({ email: 'a@b.co', total: 12 });
    expect(b.message['messageId']).not.toBe(a.message['messageId']);
    expect(rowTrack(b, 'Order Completed')['messageId']).toBe(rowTrack(a, 'Order Completed')['messageId']);
  });

  it('reads the event parameter, and refuses properties without one', () => {
    expect(importEvent(undefined, {})).toBeNull();
    expect(importEvent(' Order Completed ', {})).toBe('Order Completed');
    expect(() => importEvent('', {})).toThrow('event must be an event name of 1 to 200 characters');
    expect(() => importEvent('x'.repeat(201), {})).toThrow(MappingError);
    expect(() => importEvent(['a', 'b'], {})).toThrow(MappingError);
    expect(() => importEvent(undefined, { total: 'properties.total' })).toThrow(
      'map sends column "total" to properties.total, which needs event=<name> (each row then also a track)',
    );
  });

  it('maps NDJSON fields to properties too', () => {
    const r = recordToIdentify({ userId: 'u1', sku: 'A-1', qty: '3' }, { sku: 'properties.sku', qty: 'properties.qty' }, 's', {
      qty: 'number',
    });
    expect(r).toMatchObject({ ok: true, message: { userId: 'u1', traits: {} }, properties: { sku: 'A-1', qty: 3 } });
  });
});

describe('recordToIdentify (NDJSON)', () => {
  it('maps fields like CSV columns, keeping JSON types in traits', () => {
    const result = recordToIdentify(
      { 'Customer ID': 42, Email: ' a@b.c ', seats: 3, vip: true, address: { city: 'Berlin' }, empty: '', gone: null, 'plan.name': 1 },
      {},
      'ws/src',
    );
    expect(result).toEqual({
      ok: true,
      message: {
        type: 'identify',
        userId: '42',
        traits: { email: 'a@b.c', seats: 3, vip: true, address: { city: 'Berlin' }, plan_name: 1 },
        messageId: expect.stringMatching(/^import-[0-9a-f]{32}$/),
      },
      properties: {},
      rowId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('rejects what cannot be an identify, saying why', () => {
    expect(recordToIdentify([1], {}, 's')).toEqual({ ok: false, reason: 'line is not a JSON object' });
    expect(recordToIdentify({ plan: 'pro' }, {}, 's')).toEqual({ ok: false, reason: 'no userId, anonymousId or email' });
    expect(recordToIdentify({ user_id: { a: 1 } }, {}, 's')).toEqual({
      ok: false,
      reason: 'user_id (userId) must be a string or a number',
    });
    expect(recordToIdentify({ user_id: 'u', phone: '1', mobile: '2' }, {}, 's')).toEqual({
      ok: false,
      reason: '"phone" and "mobile" both map to traits.phone',
    });
    // An empty field goes nowhere, so it clashes with nothing.
    expect(recordToIdentify({ user_id: 'u', phone: '1', mobile: '' }, {}, 's')).toMatchObject({ ok: true });
    expect(recordToIdentify({ id: 'x', when: 'soon' }, { id: 'userId', when: 'timestamp' }, 's')).toEqual({
      ok: false,
      reason: 'timestamp "soon" is not a time (ISO 8601, RFC 2822 or epoch seconds or millis, from 2000 on)',
    });
    // A day the calendar lacks is refused, not moved to March.
    expect(recordToIdentify({ id: 'x', when: '2026-02-30T00:00:00Z' }, { id: 'userId', when: 'timestamp' }, 's')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^timestamp "2026-02-30T00:00:00Z" is not a time/),
    });
    expect(recordToIdentify({ id: 'x', when: '1764583200' }, { id: 'userId', when: 'timestamp' }, 's')).toMatchObject({ ok: true });
  });

  it('derives the same messageId from the same record and source only, and the email-only anonymousId from the email', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string(), fc.integer())),
        fc.emailAddress(),
        (extra, email) => {
          const record = { ...extra, email };
          const a = recordToIdentify(record, {}, 'ws/a');
          const again = recordToIdentify(JSON.parse(JSON.stringify(record)), {}, 'ws/a');
          const other = recordToIdentify(record, {}, 'ws/b');
          if (!a.ok || !again.ok || !other.ok) return; // e.g. a generated key that maps to userId with a bad value
          expect(again.message['messageId']).toBe(a.message['messageId']);
          expect(other.message['messageId']).not.toBe(a.message['messageId']);
          if (
            a.message['userId'] === undefined &&
            a.message['anonymousId'] !== undefined &&
            typeof (a.message['traits'] as Record<string, unknown>)['email'] === 'string'
          ) {
            const plain = recordToIdentify({ email }, {}, 'ws/c');
            expect(plain.ok && plain.message['anonymousId']).toBe(a.message['anonymousId']);
          }
        },
      ),
    );
  });
});

describe('column types', () => {
  it('reads numbers and booleans, and says why a cell is neither', () => {
    expect(['35', '-1.5', '2e3', '.5'].map((t) => typedValue('number', t))).toEqual(
      [35, -1.5, 2000, 0.5].map((value) => ({ ok: true, value })),
    );
    expect(['TRUE', 'no', 'Y', '0'].map((t) => typedValue('boolean', t))).toEqual(
      [true, false, true, false].map((value) => ({ ok: true, value })),
    );
    expect(typedValue('number', '1,5')).toEqual({ ok: false, reason: '"1,5" is not a number' });
    expect(typedValue('number', 'Infinity')).toMatchObject({ ok: false });
    expect(typedValue('boolean', 'maybe')).toMatchObject({ ok: false, reason: expect.stringContaining('not true or false') });
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => typedValue('number', String(n)).ok));
  });

  it('types trait columns of a CSV; a cell that is not of its type rejects the row, naming it', () => {
    const types = parseTypesParam('age:number,vip:boolean,a:b:number');
    expect(types).toEqual({ age: 'number', vip: 'boolean', 'a:b': 'number' });
    const mapping = resolveMapping(['user_id', 'age', 'vip', 'zip'], {}, { age: 'number', vip: 'boolean' });
    expect(rowToIdentify(mapping, ['u1', '35', 'yes', '01234'], 's')).toMatchObject({
      ok: true,
      message: { userId: 'u1', traits: { age: 35, vip: true, zip: '01234' } },
    });
    expect(rowToIdentify(mapping, ['u1', 'old', 'yes', ''], 's')).toEqual({ ok: false, reason: 'traits.age: "old" is not a number' });
    expect(() => parseTypesParam('age:float')).toThrow('must be <column>:<type>');
    expect(() => resolveMapping(['user_id'], {}, { age: 'number' })).toThrow('types names column "age", which is not in the header row');
    expect(() => resolveMapping(['user_id'], {}, { user_id: 'number' })).toThrow('only a trait or a property takes a type');
  });

  it('reads the text of a typed NDJSON field as its type, and keeps JSON values as they are', () => {
    expect(recordToIdentify({ user_id: 'u', age: '35', score: 7 }, {}, 's', { age: 'number', score: 'number' })).toMatchObject({
      ok: true,
      message: { traits: { age: 35, score: 7 } },
    });
    expect(recordToIdentify({ user_id: 'u', age: 'x' }, {}, 's', { age: 'number' })).toEqual({
      ok: false,
      reason: 'age: "x" is not a number',
    });
  });
});
