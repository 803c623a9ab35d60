import fc from 'fast-check';
import { erasureHash, eventErasureHashes } from './erasure';
import { newestMemberships, takesUpdate, type MembershipUpdate } from './memberships';

describe('erasureHash', () => {
  it('keeps no readable trace of the identifier and differs per workspace and kind', () => {
    const h = erasureHash('ws', { kind: 'identifier', type: 'email', value: 'jane@example.com' });
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toContain('jane');
    expect(erasureHash('ws2', { kind: 'identifier', type: 'email', value: 'jane@example.com' })).not.toBe(h);
    expect(erasureHash('ws', { kind: 'profile', profileId: 'email:jane@example.com' })).not.toBe(h);
  });
  it('covers an event by its profile id and every identifier', () => {
    const hashes = eventErasureHashes('ws', { profileId: 'p1', identifiers: [{ type: 'user_id', value: '42' }] });
    expect(hashes).toEqual([
      erasureHash('ws', { kind: 'profile', profileId: 'p1' }),
      erasureHash('ws', { kind: 'identifier', type: 'user_id', value: '42' }),
    ]);
  });
});

const updateArb = fc.record({
  profileId: fc.constantFrom('p1', 'p2'),
  segmentId: fc.constantFrom('s1', 's2'),
  segmentName: fc.constant('S'),
  member: fc.boolean(),
  membershipVersion: fc.integer({ min: 1, max: 6 }),
  occurredAt: fc.nat(),
});

/** What the repository does: each update taken only over an older stored version. */
const applyAll = (updates: readonly MembershipUpdate[]): Map<string, MembershipUpdate> => {
  const stored = new Map<string, MembershipUpdate>();
  for (const u of updates) {
    const key = `${u.profileId}/${u.segmentId}`;
    if (takesUpdate(stored.get(key) ?? null, u)) stored.set(key, u);
  }
  return stored;
};

describe('membership read model', () => {
  it('ends in the same state for any order and any redelivery of the changes', () => {
    // One real transition per (profile, segment, version), as the segmenter guarantees.
    const changes = fc.uniqueArray(updateArb, { selector: (u) => `${u.profileId}/${u.segmentId}/${u.membershipVersion}`, maxLength: 16 });
    fc.assert(
      fc.property(
        changes.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray([...list, ...list], { minLength: list.length * 2 }))),
        ([ordered, shuffledWithRepeats]) => {
          expect(applyAll(shuffledWithRepeats)).toEqual(applyAll(ordered));
          expect(applyAll(newestMemberships(shuffledWithRepeats))).toEqual(applyAll(ordered));
        },
      ),
    );
  });
  it('keeps the highest membershipVersion per profile and segment', () => {
    const u = (membershipVersion: number, member: boolean): MembershipUpdate => ({
      profileId: 'p',
      segmentId: 's',
      segmentName: 'S',
      member,
      membershipVersion,
      occurredAt: membershipVersion,
    });
    expect(newestMemberships([u(2, false), u(1, true), u(3, true)])).toEqual([u(3, true)]);
    expect(takesUpdate({ membershipVersion: 2 }, u(2, true))).toBe(false);
  });
});
