import fc from 'fast-check';
import { cleanEmail } from './email';
import { normalizeEvent, type Envelope } from './normalize-event';
import { safeKey, sanitize } from './safe-json';
import { correctedTimestamp, MAX_FUTURE_MS } from './time';

const envelope: Envelope = { workspaceId: 'ws', sourceId: 'src', messageId: 'm1', receivedAt: 1_700_000_010_000 };

describe('cleanEmail', () => {
  it('trims and lower-cases', () => {
    expect(cleanEmail('  Jane.Doe@Example.COM ')).toEqual({ value: 'jane.doe@example.com', valid: true });
  });
  it('flags what is not an address', () => {
    expect(cleanEmail('not-an-email').valid).toBe(false);
    expect(cleanEmail('a@b').valid).toBe(false);
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
  it('refuses objects nested too deep', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50; i++) deep = { d: deep };
    expect(normalizeEvent({ type: 'track', event: 'E', userId: 'u', properties: deep }, envelope)).toMatchObject({
      ok: false,
      reason: 'too_deep',
    });
  });
});

describe('correctedTimestamp', () => {
  it('applies the skew correction when sentAt is given', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2e12 }),
        fc.integer({ min: -1e7, max: 1e7 }),
        fc.integer({ min: 0, max: 1e7 }),
        (ts, skew, delay) => {
          const sentAt = ts + delay;
          const receivedAt = sentAt - skew;
          expect(correctedTimestamp({ timestamp: new Date(ts).toISOString(), sentAt: new Date(sentAt).toISOString() }, receivedAt)).toBe(
            receivedAt - delay,
          );
        },
      ),
    );
  });
  it('falls back to receivedAt without a timestamp', () => {
    expect(correctedTimestamp({}, 42)).toBe(42);
  });
  it('takes receivedAt for a time more than MAX_FUTURE_MS after it (a client clock far ahead), and keeps the rest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2e12 }),
        fc.integer({ min: 0, max: 2e12 }),
        fc.option(fc.integer({ min: 0, max: 2e12 }), { nil: undefined }),
        (ts, receivedAt, sentAt) => {
          const input = {
            timestamp: new Date(ts).toISOString(),
            ...(sentAt === undefined ? {} : { sentAt: new Date(sentAt).toISOString() }),
          };
          const corrected = correctedTimestamp(input, receivedAt);
          expect(corrected).toBeLessThanOrEqual(receivedAt + MAX_FUTURE_MS);
          const plain = sentAt === undefined ? ts : receivedAt - (sentAt - ts);
          if (plain <= receivedAt + MAX_FUTURE_MS) expect(corrected).toBe(plain);
          else expect(corrected).toBe(receivedAt);
        },
      ),
    );
    const receivedAt = Date.parse('2026-12-01T00:00:00Z');
    expect(correctedTimestamp({ timestamp: '2030-01-01T00:00:00Z' }, receivedAt)).toBe(receivedAt);
    // A clock two seconds fast: two events keep their order.
    expect(correctedTimestamp({ timestamp: receivedAt + 2_000 }, receivedAt)).toBe(receivedAt + 2_000);
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
