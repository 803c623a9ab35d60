import fc from 'fast-check';
import { identifierHash } from '@cdp/contracts';
import { eventIdentifierHashes, eventIdentifiers, parseSuppressionKey } from './suppressed-identifiers';

describe('eventIdentifiers', () => {
  it('reads what the identity-resolver reads, trimmed, emails lower-cased', () => {
    const ids = eventIdentifiers({
      type: 'identify',
      userId: ' u1 ',
      anonymousId: 'a1',
      traits: { email: ' Jane@Example.COM ', phone: '+14155552671' },
      context: {
        device: { id: 'd1', advertisingId: 'ad1' },
        externalIds: [
          { id: 'c-9', type: ' CRM_ID ' },
          { id: 'x', type: 'bad type' },
          { id: null, type: 'crm_id' },
        ],
      },
    });
    expect(ids).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'anonymous_id', value: 'a1' },
      { type: 'email', value: 'jane@example.com' },
      { type: 'phone', value: '+14155552671' },
      { type: 'device_id', value: 'd1' },
      { type: 'advertising_id', value: 'ad1' },
      { type: 'crm_id', value: 'c-9' },
    ]);
  });

  it("reads no identifier from a group call's traits (the group's), but the person's context.traits", () => {
    const ids = eventIdentifiers({
      type: 'group',
      userId: 'u1',
      traits: { email: 'billing@acme.com' },
      context: { traits: { email: 'jane@acme.com' } },
    });
    expect(ids).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'email', value: 'jane@acme.com' },
    ]);
  });

  it('reads an alias previousId both ways, and context.traits of a raw message', () => {
    expect(eventIdentifiers({ type: 'alias', userId: 'new', previousId: 'old' })).toEqual([
      { type: 'user_id', value: 'new' },
      { type: 'anonymous_id', value: 'old' },
      { type: 'user_id', value: 'old' },
    ]);
    expect(eventIdentifiers({ type: 'track', context: { traits: { email: 'A@B.co', phone: 4915112345678 } } })).toEqual([
      { type: 'email', value: 'a@b.co' },
      { type: 'phone', value: '4915112345678' },
    ]);
    // previousId of anything but an alias is no identifier.
    expect(eventIdentifiers({ type: 'track', previousId: 'old' })).toEqual([]);
  });

  it('never throws, and yields only non-empty trimmed values of valid types, without duplicates', () => {
    fc.assert(
      fc.property(
        fc.record({
          type: fc.anything(),
          userId: fc.anything(),
          anonymousId: fc.anything(),
          previousId: fc.anything(),
          traits: fc.anything(),
          context: fc.oneof(fc.anything(), fc.record({ externalIds: fc.array(fc.record({ id: fc.anything(), type: fc.anything() })) })),
        }),
        (source) => {
          const ids = eventIdentifiers(source);
          expect(new Set(ids.map((i) => `${i.type}:${i.value}`)).size).toBe(ids.length);
          for (const { type, value } of ids) {
            expect(type).toMatch(/^[a-z0-9_-]{1,64}$/);
            expect(value).toBe(value.trim());
            expect(value).not.toBe('');
          }
        },
      ),
    );
  });

  it('hashes as the suppression topic does, so a suppressed email matches however it was written', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.constantFrom(' ', '', '  '), (email, pad) => {
        const hashes = eventIdentifierHashes('ws', { traits: { email: `${pad}${email.toUpperCase()}${pad}` } });
        expect(hashes).toEqual([identifierHash('ws', 'email', email.toLowerCase())]);
      }),
    );
  });
});

describe('parseSuppressionKey', () => {
  const hash = identifierHash('ws', 'email', 'a@b.co');

  it('splits at the last colon: workspace ids may hold one, hashes never do', () => {
    expect(parseSuppressionKey(`ws:${hash}`)).toEqual({ workspaceId: 'ws', identifierHash: hash });
    expect(parseSuppressionKey(`a:b:${hash}`)).toEqual({ workspaceId: 'a:b', identifierHash: hash });
  });

  it.each(['', hash, `:${hash}`, 'ws:nothex', `ws:${hash.toUpperCase()}`])('refuses %p', (key) => {
    expect(parseSuppressionKey(key)).toBeNull();
  });
});

describe('eventIdentifierHashes', () => {
  it('answers identifierHash for every identifier, however often the same ones come (memoized)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (workspaceId, userId, anonymousId) => {
        const expected = eventIdentifiers({ userId, anonymousId }).map((i) => identifierHash(workspaceId, i.type, i.value));
        for (let i = 0; i < 3; i++) expect(eventIdentifierHashes(workspaceId, { userId, anonymousId })).toEqual(expected);
      }),
    );
  });
  it('keeps identifiers apart whose parts would run together (workspace, type and value with newlines)', () => {
    const a = eventIdentifierHashes('w\nuser_id', { anonymousId: 'v' });
    const b = eventIdentifierHashes('w', { userId: 'anonymous_id\nv' });
    expect(a).toEqual([identifierHash('w\nuser_id', 'anonymous_id', 'v')]);
    expect(b).toEqual([identifierHash('w', 'user_id', 'anonymous_id\nv')]);
  });
});
