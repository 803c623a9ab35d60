import fc from 'fast-check';
import { cleanEmail } from './email';
import { normalizeEvent, type Envelope } from './normalize-event';
import { OBJECT_LIMITS, objectLimitError, safeKey, sanitize, sanitizeBudget, sanitizeObject, UnsafeInputError } from './safe-json';
import { correctedTimestamp, MAX_FUTURE_MS, MIN_EVENT_TIME, parseTime } from './time';

const envelope: Envelope = { workspaceId: 'ws', sourceId: 'src', messageId: 'm1', receivedAt: 1_700_000_010_000 };

describe('cleanEmail', () => {
  it('trims and lower-cases', () => {
    expect(cleanEmail('  Jane.Doe@Example.COM ')).toEqual({ value: 'jane.doe@example.com', valid: true });
  });
  it('flags what is not an address', () => {
    expect(cleanEmail('not-an-email').valid).toBe(false);
    expect(cleanEmail('a@b').valid).toBe(false);
    expect(cleanEmail('a b@example.com').valid).toBe(false);
    expect(cleanEmail('a@-example.com').valid).toBe(false);
    expect(cleanEmail('a@example..com').valid).toBe(false);
  });
  it('takes internationalized addresses, composed (NFC) and lower-cased', () => {
    expect(cleanEmail('Zoë@Example.com')).toEqual({ value: 'zoë@example.com', valid: true });
    expect(cleanEmail('Zoe\u0308@example.com')).toEqual({ value: 'zoë@example.com', valid: true });
    expect(cleanEmail('用户@例子.广告')).toEqual({ value: '用户@例子.广告', valid: true });
    expect(cleanEmail('jürgen@müller.de').valid).toBe(true);
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => expect(cleanEmail(cleanEmail(s).value)).toEqual(cleanEmail(s))));
  });
  it('is idempotent', () => {
    fc.assert(fc.property(fc.string(), (s) => expect(cleanEmail(cleanEmail(s).value)).toEqual(cleanEmail(s))));
    fc.assert(fc.property(fc.emailAddress(), (s) => expect(cleanEmail(s.toUpperCase()).value).toBe(s.toLowerCase())));
  });
});

describe('safe keys', () => {
  it('never yields a dotted key, a leading $ or a prototype key', () => {
    fc.assert(
      fc.property(fc.string(), (k) => {
        const s = safeKey(k);
        expect(s).not.toContain('.');
        expect(s.startsWith('$')).toBe(false);
        expect(['__proto__', 'constructor', 'prototype', '']).not.toContain(s);
      }),
    );
  });
  it('does not pollute prototypes', () => {
    const out = sanitize(JSON.parse('{"__proto__": {"polluted": true}, "a.b": 1, "$where": 2}')) as Record<string, unknown>;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(out).toEqual({ ___proto__: { polluted: true }, a_b: 1, _where: 2 });
  });
  it('refuses objects nested too deep or with too many keys, naming the object', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50; i++) deep = { d: deep };
    expect(normalizeEvent({ type: 'track', event: 'E', userId: 'u', properties: deep }, envelope)).toEqual({
      ok: false,
      reason: 'too_deep',
      message: 'properties is nested deeper than 10 levels',
    });
    const wide = { nested: Object.fromEntries(Array.from({ length: OBJECT_LIMITS.maxKeys }, (_, i) => [`k${i}`, i])) };
    expect(normalizeEvent({ type: 'identify', userId: 'u', traits: wide }, envelope)).toEqual({
      ok: false,
      reason: 'too_many_keys',
      message: 'traits has more than 1000 keys (nested ones included)',
    });
  });
});

describe('objectLimitError', () => {
  /** Values around both limits: deep chains, wide objects, and arbitrary JSON. */
  const chain = fc
    .tuple(fc.integer({ min: 0, max: 14 }), fc.jsonValue({ maxDepth: 2 }), fc.boolean())
    .map(([n, leaf, arrays]) => Array.from({ length: n }).reduce<unknown>((v) => (arrays ? [v] : { d: v }), leaf));
  const wide = fc
    .tuple(fc.integer({ min: 990, max: 1_010 }), fc.integer({ min: 0, max: 3 }))
    .map(([n, at]) => ({ head: { ...Object.fromEntries(Array.from({ length: n - at }, (_, i) => [`k${i}`, null])) }, tail: at }));
  const outcome = (run: () => unknown) => {
    try {
      run();
      return null;
    } catch (e) {
      return e instanceof UnsafeInputError && e.code !== 'too_large' ? { code: e.code, message: e.message } : null;
    }
  };

  it('finds exactly the depth and key-count errors sanitizeObject throws', () => {
    fc.assert(
      fc.property(fc.oneof(chain, wide, fc.jsonValue(), fc.anything()), fc.constantFrom('traits', 'context'), (value, field) => {
        const found = objectLimitError(value, field);
        expect(found && { code: found.code, message: found.message }).toEqual(outcome(() => sanitizeObject(value, field)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('size limit', () => {
  const { maxBytes } = OBJECT_LIMITS;
  const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
  /** What a call answers: the value, or the code and message it was refused with. */
  const outcome = (run: () => unknown) => {
    try {
      return { value: run() };
    } catch (e) {
      if (e instanceof UnsafeInputError) return { code: e.code, message: e.message };
      throw e;
    }
  };
  /** Characters of every UTF-8/JSON width: 1, 2, 3, 4 (a pair) and 6 bytes (escaped, a lone surrogate). */
  const unit = fc.constantFrom('x', 'é', '€', '😀', '\u0001', '"', '\ud800');
  /** Objects around the limit: a few random fields and a pad of one kind of character. */
  const nearLimit = fc
    .tuple(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), unit, fc.integer({ min: -300, max: 300 }))
    .map(([fields, char, delta]) => ({ ...fields, pad: char.repeat(Math.max(0, Math.floor((maxBytes + delta) / bytesOf(char)))) }));

  it('is twice the collector limit of 32 KB per event', () => {
    expect(maxBytes).toBe(2 * 32 * 1024);
  });

  it('bounds the JSON size of what sanitize copies', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearLimit, fc.anything()), (value) => {
        const budget = sanitizeBudget();
        const r = outcome(() => sanitize(value, 0, budget));
        if ('value' in r) expect(budget.bytes).toBeGreaterThanOrEqual(bytesOf(r.value));
      }),
    );
  });

  it('passes an object within the limit unchanged, refuses one over it with too_large', () => {
    fc.assert(
      fc.property(
        fc.oneof(nearLimit, fc.dictionary(fc.string(), fc.jsonValue())),
        fc.constantFrom('traits', 'properties', 'context'),
        (value, field) => {
          const sanitized = sanitize(value);
          const size = bytesOf(sanitized);
          const r = outcome(() => sanitizeObject(value, field));
          if (size <= maxBytes) expect(r).toEqual({ value: sanitized });
          else expect(r).toEqual({ code: 'too_large', message: `${field} is ${size} bytes as JSON, over the ${maxBytes}-byte limit` });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary JSON in traits, properties and context', () => {
    const field = fc.oneof(fc.jsonValue(), nearLimit);
    fc.assert(
      fc.property(fc.constantFrom('identify', 'track', 'page', 'group'), field, field, field, (type, traits, properties, context) => {
        const result = normalizeEvent({ type, event: 'E', groupId: 'g', userId: 'u', traits, properties, context }, envelope);
        if (!result.ok) expect(['too_deep', 'too_many_keys', 'too_large']).toContain(result.reason);
      }),
      { numRuns: 200 },
    );
  });

  it('measures the limit exactly, on the keys as made safe', () => {
    const exactly = (n: number) => ({ p: 'x'.repeat(n - bytesOf({ p: '' })) });
    expect(bytesOf(exactly(maxBytes))).toBe(maxBytes);
    expect(sanitizeObject(exactly(maxBytes))).toEqual(exactly(maxBytes));
    expect(() => sanitizeObject(exactly(maxBytes + 1), 'traits')).toThrow(
      `traits is ${maxBytes + 1} bytes as JSON, over the ${maxBytes}-byte limit`,
    );
    // `__proto__` is stored as `___proto__`: one byte more.
    const proto = JSON.parse(`{"__proto__": "${'x'.repeat(maxBytes - bytesOf({ __proto__x: '' }) + 1)}"}`);
    expect(bytesOf(proto)).toBe(maxBytes);
    expect(outcome(() => sanitizeObject(proto))).toMatchObject({ code: 'too_large' });
  });

  it('dead-letters an event with a too large object as too_large, naming it', () => {
    const big = { pad: '€'.repeat(maxBytes / 3) };
    for (const [message, field] of [
      [{ type: 'identify', userId: 'u', traits: big }, 'traits'],
      [{ type: 'track', event: 'E', userId: 'u', properties: big }, 'properties'],
      [{ type: 'page', userId: 'u', context: big }, 'context'],
    ] as const) {
      const result = normalizeEvent(message, envelope);
      expect(result).toMatchObject({ ok: false, reason: 'too_large' });
      expect(!result.ok && result.message).toMatch(
        new RegExp(`^${field} is ${bytesOf(big)} bytes as JSON, over the ${maxBytes}-byte limit$`),
      );
    }
  });

  it('accepts what the collector lets through: a 32 KB event, and the context it adds', () => {
    const MAX_EVENT_BYTES = 32 * 1024; // apps/collector's per-event limit, on the event as sent
    // The collector adds ip, userAgent (a header: Node takes 16 KB of them) and library to context.
    const edge = {
      ip: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
      userAgent: 'Mozilla/5.0 '.repeat(1365),
      library: { name: 'unknown', version: 'unknown' },
    };
    /** `at` (a path of objects) filled so that the event as sent is MAX_EVENT_BYTES, in escaped control characters. */
    const filled = (message: Record<string, unknown>, at: string[]) => {
      const fill = (n: number) => {
        const copy = structuredClone(message);
        let o: Record<string, unknown> = copy;
        for (const k of at) o = (o[k] ??= {}) as Record<string, unknown>;
        o['pad'] = '\u0001'.repeat(n);
        return copy;
      };
      const n = Math.floor((MAX_EVENT_BYTES - bytesOf(fill(0))) / 6);
      expect(bytesOf(fill(n))).toBeLessThanOrEqual(MAX_EVENT_BYTES);
      expect(bytesOf(fill(n + 1))).toBeGreaterThan(MAX_EVENT_BYTES);
      const event = fill(n);
      return { ...event, context: { ...(event['context'] as object), ...edge } };
    };
    for (const message of [
      filled({ type: 'identify', userId: 'u' }, ['traits']),
      filled({ type: 'track', event: 'E', userId: 'u' }, ['properties']),
      filled({ type: 'track', event: 'E', userId: 'u' }, ['context', 'traits']),
      filled({ type: 'page', userId: 'u', properties: { path: '/' } }, ['context']),
    ]) {
      const result = normalizeEvent(message, envelope);
      expect(result).toMatchObject({ ok: true });
      // Each has an object of about the whole event (the context ones more, with the userAgent).
      const sizes = result.ok ? [result.event.traits, result.event.properties, result.event.context].map((j) => Buffer.byteLength(j)) : [];
      expect(Math.max(...sizes)).toBeGreaterThan(MAX_EVENT_BYTES - 100);
    }
  });
});

describe('parseTime', () => {
  const at = Date.parse('2026-12-01T10:00:00Z');
  it.each([
    ['2026-12-01T10:00:00Z', at],
    ['2026-12-01T11:00:00+01:00', at],
    ['2026-12-01 10:00:00', at],
    ['2026-12-01T10:00', at],
    ['2026-12-01T10:00:00.5Z', at + 500],
    ['2026-12-01T05:30:00-0430', at],
    ['2026-12-01', Date.parse('2026-12-01T00:00:00Z')],
    ['Tue, 01 Dec 2026 10:00:00 GMT', at],
    ['Tue, 01 Dec 2026 11:00:00 +0100', at],
    // Days the calendar lacks, and what is no ISO 8601 or RFC 2822 time.
    ['2026-02-30T00:00:00Z', undefined],
    ['2026-02-29', undefined],
    ['2028-02-29', Date.parse('2028-02-29T00:00:00Z')],
    ['2026-13-01', undefined],
    ['2026-12-01T24:00:00Z', undefined],
    ['Mon, 30 Feb 2026 00:00:00 GMT', undefined],
    ['Wed Dec 02 2026 01:45:10 GMT+0000', undefined],
    ['2026', undefined],
    // Before 2000: a wrong clock or a wrong unit.
    ['0000-01-01T00:00:00Z', undefined],
    ['1999-12-31T23:59:59Z', undefined],
    [-1, undefined],
    [12345, undefined],
    [at, at],
    [at / 1000, at],
    [String(at / 1000), at],
    [` ${at} `, at],
    [at / 1000 + 0.25, at + 250],
    ['Dec 12', undefined],
    ['yesterday', undefined],
    ['', undefined],
    [1e20, undefined],
    [Number.NaN, undefined],
    [true, undefined],
  ])('%j -> %j', (raw, ms) => {
    expect(parseTime(raw)).toBe(ms);
  });
  it('reads ISO 8601 as written, with or without a zone', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(MIN_EVENT_TIME), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        const iso = date.toISOString();
        expect(parseTime(iso)).toBe(date.getTime());
        expect(parseTime(iso.replace('Z', ''))).toBe(date.getTime());
        expect(parseTime(iso.replace('T', ' ').replace('Z', '+00:00'))).toBe(date.getTime());
      }),
    );
  });
  it('reads epoch seconds and millis of the same moment alike, as whole millis', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_EVENT_TIME, max: 4e12 }), fc.boolean(), (ms, asString) => {
        const seconds = ms / 1000;
        const read = (v: number) => parseTime(asString ? String(v) : v);
        expect(read(ms)).toBe(ms);
        expect(read(seconds)).toBe(ms);
      }),
    );
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const ms = parseTime(v);
        if (ms !== undefined) expect(Number.isSafeInteger(ms)).toBe(true);
      }),
    );
  });
});

describe('correctedTimestamp', () => {
  it('applies the skew correction when sentAt is given', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_EVENT_TIME + 1e7, max: 2e12 }),
        fc.integer({ min: -1e7, max: 1e7 }),
        fc.integer({ min: 0, max: 1e7 }),
        (ts, skew, delay) => {
          const sentAt = ts + delay;
          const receivedAt = sentAt - skew;
          expect(correctedTimestamp({ timestamp: new Date(ts).toISOString(), sentAt: new Date(sentAt).toISOString() }, receivedAt)).toEqual(
            { timestamp: receivedAt - delay, replaced: null },
          );
        },
      ),
    );
  });
  it('falls back to receivedAt without a timestamp, and says so when the one given is unreadable', () => {
    expect(correctedTimestamp({}, 42)).toEqual({ timestamp: 42, replaced: null });
    expect(correctedTimestamp({ timestamp: null, originalTimestamp: ' ' }, 42)).toEqual({ timestamp: 42, replaced: null });
    for (const timestamp of ['yesterday', '2026-02-30T10:00:00Z', '1999-12-31T23:59:59Z', -1, { at: 1 }, true]) {
      expect(correctedTimestamp({ timestamp }, 42)).toEqual({ timestamp: 42, replaced: 'unreadable' });
    }
    // An unreadable originalTimestamp with a readable timestamp: the timestamp is taken.
    expect(correctedTimestamp({ originalTimestamp: 'x', timestamp: '2026-12-01T00:00:00Z' }, Date.parse('2026-12-01T00:00:01Z'))).toEqual({
      timestamp: Date.parse('2026-12-01T00:00:00Z'),
      replaced: null,
    });
  });
  it('takes receivedAt for a time more than MAX_FUTURE_MS after it (a client clock far ahead) or before 2000, and keeps the rest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_EVENT_TIME, max: 2e12 }),
        fc.integer({ min: MIN_EVENT_TIME, max: 2e12 }),
        fc.option(fc.integer({ min: MIN_EVENT_TIME, max: 2e12 }), { nil: undefined }),
        (ts, receivedAt, sentAt) => {
          const input = {
            timestamp: new Date(ts).toISOString(),
            ...(sentAt === undefined ? {} : { sentAt: new Date(sentAt).toISOString() }),
          };
          const corrected = correctedTimestamp(input, receivedAt);
          expect(corrected.timestamp).toBeLessThanOrEqual(receivedAt + MAX_FUTURE_MS);
          const plain = sentAt === undefined ? ts : receivedAt - (sentAt - ts);
          if (plain > receivedAt + MAX_FUTURE_MS) expect(corrected).toEqual({ timestamp: receivedAt, replaced: 'future' });
          else if (plain < MIN_EVENT_TIME) expect(corrected).toEqual({ timestamp: receivedAt, replaced: 'past' });
          else expect(corrected).toEqual({ timestamp: plain, replaced: null });
        },
      ),
    );
    const receivedAt = Date.parse('2026-12-01T00:00:00Z');
    expect(correctedTimestamp({ timestamp: '2030-01-01T00:00:00Z' }, receivedAt)).toEqual({ timestamp: receivedAt, replaced: 'future' });
    // A clock two seconds fast: two events keep their order.
    expect(correctedTimestamp({ timestamp: receivedAt + 2_000 }, receivedAt).timestamp).toBe(receivedAt + 2_000);
  });
});

describe('normalizeEvent', () => {
  it('cleans an identify call', () => {
    const result = normalizeEvent({ type: 'identify', userId: 42, traits: { email: ' Jane@Example.com ', 'a.b': 1 } }, envelope);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.event.userId).toBe('42');
    expect(JSON.parse(result.event.traits)).toEqual({ email: 'jane@example.com', a_b: 1 });
  });

  it("keeps a page or screen call's category as properties.category, unless the properties name one", () => {
    const props = (m: Record<string, unknown>) => {
      const r = normalizeEvent({ userId: 'u', ...m }, envelope);
      return r.ok ? JSON.parse(r.event.properties) : r.message;
    };
    expect(props({ type: 'page', name: 'Home', category: 'Landing', properties: { path: '/' } })).toEqual({
      path: '/',
      category: 'Landing',
    });
    expect(props({ type: 'screen', category: 'Onboarding' })).toEqual({ category: 'Onboarding' });
    expect(props({ type: 'page', category: 'Landing', properties: { category: 'Own' } })).toEqual({ category: 'Own' });
    expect(props({ type: 'track', event: 'E', category: 'Landing' })).toEqual({});
  });

  it('keeps an invalid email as a trait but not as email', () => {
    const result = normalizeEvent({ type: 'identify', anonymousId: 'a', traits: { email: 'nope' } }, envelope);
    expect(result.ok && JSON.parse(result.event.traits)).toEqual({ invalidEmail: 'nope' });
  });

  it.each([
    [{ type: 'nope', userId: 'u' }, 'invalid_type'],
    [{ type: 'track', event: 'E' }, 'missing_identity'],
    [{ type: 'track', userId: 'u' }, 'missing_event'],
    [{ type: 'group', userId: 'u' }, 'missing_group_id'],
    [{ type: 'alias', userId: 'u' }, 'missing_previous_id'],
    ['a string', 'invalid_json'],
  ])('rejects %j with %s', (input, reason) => {
    expect(normalizeEvent(input, envelope)).toMatchObject({ ok: false, reason });
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = normalizeEvent(value, envelope);
        if (result.ok) expect(result.event.workspaceId).toBe('ws');
        else expect(result.message.length).toBeGreaterThan(0);
      }),
    );
  });
});
