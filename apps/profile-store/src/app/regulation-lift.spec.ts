import fc from 'fast-check';
import { identifierHash } from '@cdp/contracts';
import { erasureHash, eventErasureHashes } from '@cdp/profile-model';
import type { SuppressionSource } from './erasures.repository';
import { liftPlan, type StoredSuppression } from './regulation-lift';

describe('identifierHash (the suppression topic) and erasureHash (profile_erasures)', () => {
  it('agree for every identifier, so the normalizer drops what this service suppresses', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (workspaceId, type, value) => {
        expect(identifierHash(workspaceId, type, value)).toBe(erasureHash(workspaceId, { kind: 'identifier', type, value }));
      }),
    );
  });

  it('a suppressed identifier is among the hashes an event carrying it is checked by', () => {
    const hash = identifierHash('ws', 'email', 'jane@example.com');
    expect(eventErasureHashes('ws', { profileId: 'p1', identifiers: [{ type: 'email', value: 'jane@example.com' }] })).toContain(hash);
  });
});

describe('liftPlan', () => {
  const FALLBACK = 5_000;

  it('removes what only a regulation held, keeps an erasure window, leaves erasure-only records alone', () => {
    const stored: StoredSuppression[] = [
      { hash: 'reg', sources: ['regulation'] },
      { hash: 'both', sources: ['erasure', 'regulation'], erasureUntil: 1_000 },
      { hash: 'legacy-both', sources: ['regulation', 'erasure'] },
      { hash: 'erasure', sources: ['erasure'], erasureUntil: 1_000 },
      { hash: 'old-erasure' },
    ];
    expect(liftPlan(stored, FALLBACK)).toEqual({
      remove: ['reg'],
      keep: [
        { hash: 'both', sources: ['erasure'], until: 1_000 },
        { hash: 'legacy-both', sources: ['erasure'], until: FALLBACK },
      ],
    });
  });

  const source = fc.constantFrom<SuppressionSource>('erasure', 'regulation');
  const doc = fc.record(
    {
      hash: fc.string({ minLength: 1 }),
      sources: fc.uniqueArray(source, { maxLength: 2 }),
      erasureUntil: fc.nat(),
    },
    { requiredKeys: ['hash'] },
  );

  it('never leaves a regulation in force, and touches only records a regulation held', () => {
    fc.assert(
      fc.property(fc.array(doc), fc.nat(), (stored, fallback) => {
        const plan = liftPlan(stored, fallback);
        const held = stored.filter((d) => (d.sources ?? ['erasure']).includes('regulation'));
        expect(plan.remove.length + plan.keep.length).toBe(held.length);
        for (const k of plan.keep) {
          expect(k.sources).not.toContain('regulation');
          expect(k.sources.length).toBeGreaterThan(0);
        }
        // Lifting twice changes nothing more: what is kept no longer names a regulation.
        const after = plan.keep.map((k) => ({ hash: k.hash, sources: k.sources, erasureUntil: k.until }));
        expect(liftPlan(after, fallback)).toEqual({ remove: [], keep: [] });
      }),
    );
  });
});
