import fc from 'fast-check';
import type { NormalizedEvent } from '@cdp/contracts';
import {
  blockedValueTest,
  combinedCounts,
  decide,
  DEFAULT_IDENTITY_RULES,
  extractIdentifiers,
  identifierKey,
  limitOf,
  type IdentifierMatch,
  type IdentityRules,
  type ResolutionInput,
} from './index';

/** Issue #5's properties at the level of one decision, under random rules (the default rules are covered in identity-graph.spec.ts). */
const TYPES = ['user_id', 'email', 'anonymous_id', 'phone', 'crm'] as const;

const rules: fc.Arbitrary<IdentityRules> = fc.record({
  priority: fc.shuffledSubarray([...TYPES]),
  limits: fc.dictionary(fc.constantFrom(...TYPES), fc.integer({ min: 1, max: 3 })),
  defaultLimit: fc.integer({ min: 1, max: 4 }),
  maxIdentifiers: fc.integer({ min: 1, max: 12 }),
  maxMerges: fc.integer({ min: 1, max: 4 }),
  blocked: fc.record({
    values: fc.array(fc.constantFrom('1', '2', 'x', 'NULL', ' 3 '), { maxLength: 3 }),
    patterns: fc.array(fc.constantFrom('^4', '5$', '^[0-]*$', '^x'), { maxLength: 2 }),
  }),
});

const inputs = (r: IdentityRules) =>
  fc
    .record({
      identifiers: fc.uniqueArray(fc.record({ type: fc.constantFrom(...TYPES), value: fc.constantFrom('1', '2', '3', '4', '5', '6') }), {
        minLength: 1,
        maxLength: 8,
        selector: identifierKey,
      }),
      profiles: fc.uniqueArray(
        fc.record({
          profileId: fc.constantFrom('pa', 'pb', 'pc', 'pd'),
          createdAt: fc.integer({ min: 0, max: 3 }),
          counts: fc.dictionary(fc.constantFrom(...TYPES), fc.integer({ min: 0, max: 3 })),
          merges: fc.integer({ min: 0, max: 3 }),
        }),
        { maxLength: 4, selector: (p) => p.profileId },
      ),
      seed: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    })
    .map(({ identifiers, profiles, seed }): ResolutionInput => {
      const matches: IdentifierMatch[] = [];
      identifiers.forEach((identifier, i) => {
        const profile = profiles[(seed[i] ?? 0) % (profiles.length + 1)];
        if (profile) matches.push({ identifier, profileId: profile.profileId });
      });
      const used = new Set(matches.map((m) => m.profileId));
      return { workspaceId: 'ws', identifiers, matches, profiles: profiles.filter((p) => used.has(p.profileId)), rules: r };
    });

const event = (userId: string, anonymousId: string, email: string, externalIds: { id: string; type: string }[]): NormalizedEvent => ({
  workspaceId: 'ws',
  sourceId: null,
  messageId: 'm',
  type: 'identify',
  event: null,
  name: null,
  userId,
  anonymousId,
  groupId: null,
  previousId: null,
  timestamp: 1,
  receivedAt: 1,
  traits: JSON.stringify({ email }),
  properties: '{}',
  context: JSON.stringify({ externalIds }),
  violations: [],
});

const sum = (ns: number[]): number => ns.reduce((a, b) => a + b, 0);

describe('flat matching under random rules', () => {
  it('never extracts a blocked value', () => {
    const value = fc.constantFrom('1', '2', ' 3 ', '45', '5', 'x1', 'null', 'NULL', '00', 'ok');
    fc.assert(
      fc.property(rules, value, value, value, fc.array(value, { maxLength: 3 }), (r, u, a, e, ext) => {
        const ids = extractIdentifiers(
          event(
            u,
            a,
            e,
            ext.map((id) => ({ id, type: 'crm' })),
          ),
          r,
        );
        const blocked = blockedValueTest(r);
        for (const id of ids) expect(blocked(id.value)).toBe(false);
      }),
    );
  });

  it('never makes a profile exceed a limit it did not already exceed', () => {
    fc.assert(
      fc.property(
        rules.chain((r) => inputs(r)),
        (input) => {
          const d = decide(input);
          if (d.action === 'none') throw new Error('inputs always carry identifiers');
          const involved = input.profiles.filter(
            (p) => p.profileId === d.profileId || d.merges.some((m) => m.fromProfileId === p.profileId),
          );
          const counts = combinedCounts(involved, d.attach);
          for (const [type, n] of Object.entries(counts)) {
            const before = Math.max(0, ...involved.map((p) => p.counts[type] ?? 0));
            expect(n <= limitOf(input.rules, type) || n === before).toBe(true);
          }
          const identifiers = sum(Object.values(counts));
          const identifiersBefore = Math.max(0, ...involved.map((p) => sum(Object.values(p.counts))));
          expect(identifiers <= input.rules.maxIdentifiers || identifiers === identifiersBefore).toBe(true);
          if (d.merges.length > 0) {
            const merges = d.merges.length + sum(involved.map((p) => p.merges ?? 0));
            expect(merges).toBeLessThanOrEqual(input.rules.maxMerges);
          }
        },
      ),
    );
  });

  it('without limits, joins every profile the identifiers match and keeps every identifier (a connected-components step)', () => {
    const unlimited: IdentityRules = {
      ...DEFAULT_IDENTITY_RULES,
      limits: {},
      defaultLimit: Number.POSITIVE_INFINITY,
      maxIdentifiers: Number.POSITIVE_INFINITY,
      maxMerges: Number.POSITIVE_INFINITY,
    };
    fc.assert(
      fc.property(inputs(unlimited), (input) => {
        const d = decide(input);
        if (d.action === 'none') throw new Error('inputs always carry identifiers');
        expect(d.demoted).toEqual([]);
        const joined = new Set([d.profileId, ...d.merges.map((m) => m.fromProfileId)]);
        expect(joined).toEqual(new Set(input.matches.length > 0 ? input.matches.map((m) => m.profileId) : [d.profileId]));
      }),
    );
  });
});
