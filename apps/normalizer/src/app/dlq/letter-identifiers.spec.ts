import fc from 'fast-check';
import { identifierHash } from '@cdp/contracts';
import { letterIdentifierHashes } from './letter-identifiers';

const WS = 'ws-1';
const message = { type: 'identify', userId: ' u-1 ', traits: { email: 'Jane@Example.com' }, context: { device: { id: 'dev-9' } } };
const expected = [
  identifierHash(WS, 'user_id', 'u-1'),
  identifierHash(WS, 'email', 'jane@example.com'),
  identifierHash(WS, 'device_id', 'dev-9'),
].sort();

describe('letterIdentifierHashes', () => {
  it('reads the person of a raw event, a later stage’s record and a plain JSON message alike', () => {
    const raw = { workspaceId: WS, sourceId: 's', messageId: 'm', type: 'identify', receivedAt: 1, payload: JSON.stringify(message) };
    const staged = { ...message, traits: JSON.stringify(message.traits), context: JSON.stringify(message.context) };
    for (const original of [raw, staged, message]) expect(letterIdentifierHashes(WS, original).sort()).toEqual(expected);
  });

  it('answers [] for what names no one, and never throws on any JSON', () => {
    expect(letterIdentifierHashes(WS, null)).toEqual([]);
    expect(letterIdentifierHashes(WS, { payload: '{not json' })).toEqual([]);
    fc.assert(
      fc.property(fc.jsonValue(), fc.option(fc.string()), (value, payload) => {
        const original = payload === null ? value : { payload };
        expect(Array.isArray(letterIdentifierHashes(WS, original))).toBe(true);
      }),
    );
  });
});
