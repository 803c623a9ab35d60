import fc from 'fast-check';
import { enrich, InvalidMessageError, messagesOf, partitionId } from './segment-message';

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
  ] as const)('%s %j -> %s', (route, body, message) => {
    expect(() => messagesOf(route, body)).toThrow(message);
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
  it('adds messageId, receivedAt, ip, user agent and library', () => {
    const m = enrich({ type: 'track', userId: 'u', event: 'E' }, edge);
    expect(m.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(m['receivedAt']).toBe('2026-01-01T00:00:00.000Z');
    expect(m['context']).toEqual({ ip: '203.0.113.7', userAgent: 'UA/1', library: { name: 'unknown', version: 'unknown' } });
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
