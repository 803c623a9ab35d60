import fc from 'fast-check';
import { mapPayload, resolvePointer, validateMapping, WebhookMappingError } from './webhook-mapping';

const body = (v: unknown) => Buffer.from(JSON.stringify(v));
const escape = (step: string) => step.replace(/~/g, '~0').replace(/\//g, '~1');

describe('resolvePointer', () => {
  it('finds every value of a document by the pointer built from its path (RFC 6901 escaping)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 5 }), fc.jsonValue(), (path, leaf) => {
        const doc = path.reduceRight<unknown>((inner, step) => ({ [step]: inner }), leaf);
        expect(resolvePointer(doc, `/${path.map(escape).join('/')}`)).toEqual(leaf);
      }),
    );
  });

  it('indexes arrays, answers the whole document for "", and undefined for what is not there', () => {
    const doc = { a: [{ b: 1 }, { b: 2 }], 'x/y': { '~': 3 }, n: null };
    expect(resolvePointer(doc, '/a/1/b')).toBe(2);
    expect(resolvePointer(doc, '/x~1y/~0')).toBe(3);
    expect(resolvePointer(doc, '')).toBe(doc);
    expect(resolvePointer(doc, '/a/2/b')).toBeUndefined();
    expect(resolvePointer(doc, '/a/01')).toBeUndefined();
    expect(resolvePointer(doc, '/n/x')).toBeUndefined();
    expect(resolvePointer(doc, '/constructor')).toBeUndefined();
  });
});

describe('validateMapping', () => {
  it('accepts pointers, literals, constants and nested targets', () => {
    const mapping = {
      type: 'track',
      event: '/event_name',
      userId: '/user/id',
      properties: '/data',
      'properties.source': { const: 'shop' },
    };
    expect(validateMapping(mapping)).toEqual(mapping);
  });

  it.each([
    [[], 'mapping must be a JSON object'],
    [{ event: '/e' }, 'mapping.type is required'],
    [{ type: 'purchase' }, 'mapping.type must be one of identify, track, page, screen, group, alias'],
    [{ type: { const: 'nope' } }, 'mapping.type must be one of'],
    [{ type: 'track', colour: '/c' }, 'mapping.colour: not a Segment field'],
    [{ type: 'track', 'properties.a.b': '/c' }, 'mapping.properties.a.b: not a Segment field'],
    [{ type: 'track', event: 3 }, 'mapping.event: must be a JSON pointer'],
    [{ type: 'track', event: { const: 1, other: 2 } }, 'mapping.event: must be a JSON pointer'],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => validateMapping(input)).toThrow(WebhookMappingError);
    expect(() => validateMapping(input)).toThrow(message);
  });
});

describe('mapPayload', () => {
  const mapping = validateMapping({
    type: 'track',
    event: '/event_name',
    userId: '/user/id',
    properties: '/data',
    'properties.source': { const: 'shop' },
    timestamp: '/at',
  });

  it('builds the Segment call from the payload', () => {
    const payload = { event_name: 'Paid', user: { id: 42 }, data: { amount: 9.5 }, at: '2026-01-01T00:00:00Z' };
    const result = mapPayload(mapping, payload, 'ws/src', body(payload));
    expect(result).toEqual({
      ok: true,
      message: {
        type: 'track',
        event: 'Paid',
        userId: '42',
        properties: { amount: 9.5, source: 'shop' },
        timestamp: '2026-01-01T00:00:00Z',
        messageId: expect.stringMatching(/^webhook-[0-9a-f]{32}$/),
      },
    });
  });

  it('derives the same messageId for the same payload and source, another for another', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (event, other) => {
        const p = { event_name: event, user: { id: 'u' } };
        const id = (src: string, q: unknown) =>
          (mapPayload(mapping, q, src, body(q)) as unknown as { message: { messageId: string } }).message.messageId;
        expect(id('ws/a', p)).toBe(id('ws/a', { ...p }));
        expect(id('ws/a', p)).not.toBe(id('ws/b', p));
        if (event !== other) expect(id('ws/a', p)).not.toBe(id('ws/a', { ...p, event_name: other }));
      }),
    );
  });

  it('names a required field whose pointer finds nothing', () => {
    expect(mapPayload(mapping, { user: { id: 'u' } }, 's', body({}))).toEqual({
      ok: false,
      reason: "event is missing: the mapping's pointer /event_name found nothing in the payload",
    });
    expect(mapPayload(mapping, { event_name: 'x' }, 's', body({}))).toEqual({
      ok: false,
      reason: "userId is missing: the mapping's pointer /user/id found nothing in the payload (userId or anonymousId is required)",
    });
    expect(mapPayload(mapping, { event_name: 'x', user: { id: 'u' }, data: [1] }, 's', body({}))).toEqual({
      ok: false,
      reason: "properties must be an object: the mapping's pointer /data found an array",
    });
    // A type given by the payload: the mapping cannot know what it needs.
    const anyType = validateMapping({ type: '/kind', anonymousId: '/a' });
    expect(mapPayload(anyType, { a: 'x', kind: 'group' }, 's', body({}))).toEqual({
      ok: false,
      reason: 'groupId is missing: the mapping does not set it',
    });
    const byType = validateMapping({ type: '/kind', userId: '/u' });
    expect(mapPayload(byType, { u: 'x' }, 's', body({}))).toEqual({
      ok: false,
      reason: "type is missing: the mapping's pointer /kind found nothing in the payload",
    });
    expect(mapPayload(byType, { u: 'x', kind: 'purchase' }, 's', body({}))).toEqual({
      ok: false,
      reason: 'type must be one of identify, track, page, screen, group, alias: the mapping\'s pointer /kind found "purchase"',
    });
  });

  it('refuses a mapping no payload could pass: no user id, or a literal type without what it needs', () => {
    expect(() => validateMapping({ type: 'track', event: '/e' })).toThrow('mapping needs userId or anonymousId');
    expect(() => validateMapping({ type: 'track', userId: '/u' })).toThrow('mapping.event is required for track calls');
    expect(() => validateMapping({ type: { const: 'alias' }, userId: '/u' })).toThrow('mapping.previousId is required for alias calls');
    expect(validateMapping({ type: 'identify', anonymousId: '/a' })).toEqual({ type: 'identify', anonymousId: '/a' });
  });
});
