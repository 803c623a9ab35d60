import fc from 'fast-check';
import type { NormalizedEvent } from '@cdp/contracts';
import {
  bySurvivorship,
  combinedCounts,
  decide,
  DEFAULT_IDENTITY_RULES,
  extractIdentifiers,
  identifierKey,
  limitOf,
  mergeIdFor,
  parseIdentifier,
  profileIdFor,
  type Identifier,
  type IdentifierMatch,
  type ResolutionInput,
} from './index';

const rules = DEFAULT_IDENTITY_RULES;

const event = (over: Partial<NormalizedEvent>): NormalizedEvent => ({
  workspaceId: 'ws',
  sourceId: null,
  messageId: 'm1',
  type: 'track',
  event: 'Clicked',
  name: null,
  userId: null,
  anonymousId: null,
  groupId: null,
  previousId: null,
  timestamp: 1,
  receivedAt: 1,
  traits: '{}',
  properties: '{}',
  context: '{}',
  violations: [],
  ...over,
});

describe('extractIdentifiers', () => {
  it('takes every known field and the external ids, sorted by type and value', () => {
    const ids = extractIdentifiers(
      event({
        userId: '42',
        anonymousId: 'a-1',
        traits: JSON.stringify({ email: 'jane@example.com', phone: '+4912345' }),
        context: JSON.stringify({
          device: { id: 'dev-1', advertisingId: 'ad-1' },
          externalIds: [{ id: 'c-9', type: 'Crm_Id', collection: 'users' }, { id: 'x', type: 'bad.type' }, { type: 'no_id' }],
        }),
      }),
    );
    expect(ids).toEqual([
      { type: 'advertising_id', value: 'ad-1' },
      { type: 'anonymous_id', value: 'a-1' },
      { type: 'crm_id', value: 'c-9' },
      { type: 'device_id', value: 'dev-1' },
      { type: 'email', value: 'jane@example.com' },
      { type: 'phone', value: '+4912345' },
      { type: 'user_id', value: '42' },
    ]);
  });

  it('drops the default blocked values', () => {
    for (const blocked of ['0', '000', '-0-', '', '  ', '-1', 'null', 'NULL', 'anonymous', 'undefined', '[object Object]']) {
      expect(extractIdentifiers(event({ userId: blocked, anonymousId: blocked }))).toEqual([]);
    }
    expect(extractIdentifiers(event({ userId: '10' }))).toEqual([{ type: 'user_id', value: '10' }]);
  });

  it("takes no identifier from a group call's traits (the group's, shared by its people)", () => {
    const traits = JSON.stringify({ email: 'billing@acme.com', phone: '+4912345' });
    expect(extractIdentifiers(event({ type: 'group', groupId: 'acme', userId: 'u', traits }))).toEqual([{ type: 'user_id', value: 'u' }]);
    expect(extractIdentifiers(event({ type: 'identify', userId: 'u', traits }))).toHaveLength(3);
  });

  it('takes an email only as text (a number is no address), a phone as text or a number', () => {
    const traits = JSON.stringify({ email: 987654, phone: 4912345 });
    expect(extractIdentifiers(event({ anonymousId: 'a', traits }))).toEqual([
      { type: 'anonymous_id', value: 'a' },
      { type: 'phone', value: '4912345' },
    ]);
  });

  it('survives traits or context that are not JSON objects', () => {
    expect(extractIdentifiers(event({ userId: 'u', traits: 'not json', context: '[1]' }))).toEqual([{ type: 'user_id', value: 'u' }]);
  });

  it('deduplicates and never yields an unsafe type or an empty value', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ id: fc.oneof(fc.string(), fc.integer()), type: fc.string() }), { maxLength: 8 }), (externalIds) => {
        const ids = extractIdentifiers(event({ context: JSON.stringify({ externalIds: [...externalIds, ...externalIds] }) }));
        expect(new Set(ids.map(identifierKey)).size).toBe(ids.length);
        for (const id of ids) {
          expect(id.type).toMatch(/^[a-z0-9_-]{1,64}$/);
          expect(id.value.trim()).toBe(id.value);
          expect(id.value.length).toBeGreaterThan(0);
        }
      }),
    );
  });
});

describe('parseIdentifier', () => {
  it('splits at the first colon and normalizes emails', () => {
    expect(parseIdentifier('email: Jane@Example.com ')).toEqual({ ok: true, identifier: { type: 'email', value: 'jane@example.com' } });
    expect(parseIdentifier('user_id:a:b')).toEqual({ ok: true, identifier: { type: 'user_id', value: 'a:b' } });
    // A phone as the normalizer stores it (E.164); an invalid one as given.
    expect(parseIdentifier('phone:+49 170 1234567')).toEqual({ ok: true, identifier: { type: 'phone', value: '+491701234567' } });
    expect(parseIdentifier('Phone: 12 ')).toEqual({ ok: true, identifier: { type: 'phone', value: '12' } });
  });
  it('refuses malformed input', () => {
    for (const bad of ['', 'nocolon', ':value', 'email:', 'bad type:x', 'a.b:x']) expect(parseIdentifier(bad).ok).toBe(false);
  });
});

describe('ids', () => {
  it('are deterministic and depend on every part', () => {
    const id: Identifier = { type: 'email', value: 'a@b.co' };
    expect(profileIdFor('ws', id)).toBe(profileIdFor('ws', { ...id }));
    expect(profileIdFor('ws', id)).toMatch(/^p_[0-9a-f]{24}$/);
    expect(profileIdFor('ws2', id)).not.toBe(profileIdFor('ws', id));
    expect(profileIdFor('ws', { type: 'user_id', value: 'a@b.co' })).not.toBe(profileIdFor('ws', id));
    expect(mergeIdFor('ws', 'p1', 'p2')).toMatch(/^m_[0-9a-f]{24}$/);
    expect(mergeIdFor('ws', 'p1', 'p2')).not.toBe(mergeIdFor('ws', 'p2', 'p1'));
  });
});

describe('decide: examples', () => {
  const base = (over: Partial<ResolutionInput>): ResolutionInput => ({
    workspaceId: 'ws',
    identifiers: [],
    matches: [],
    profiles: [],
    rules,
    ...over,
  });
  const anon: Identifier = { type: 'anonymous_id', value: 'a1' };
  const user: Identifier = { type: 'user_id', value: 'u1' };
  const email: Identifier = { type: 'email', value: 'j@x.io' };

  it('creates a profile named after the strongest identifier', () => {
    const d = decide(base({ identifiers: [anon, user] }));
    expect(d).toEqual({
      action: 'create',
      profileId: profileIdFor('ws', user),
      identifiers: [user, anon],
      attach: [user, anon],
      merges: [],
      demoted: [],
    });
  });

  it('ranks unlisted built-in types in the default order, then custom ones by name', () => {
    const crm: Identifier = { type: 'crm_id', value: 'c1' };
    const zeta: Identifier = { type: 'zeta_id', value: 'z1' };
    const ranked = (priority: string[]) => {
      const d = decide(base({ identifiers: [zeta, anon, crm, user, email], rules: { ...rules, priority } }));
      return d.action === 'none' ? [] : d.identifiers;
    };
    expect(ranked([])).toEqual([user, email, anon, crm, zeta]);
    expect(ranked(['email'])).toEqual([email, user, anon, crm, zeta]);
    expect(ranked(['zeta_id'])).toEqual([zeta, user, email, anon, crm]);
  });

  it('attaches new identifiers to the one profile that matches', () => {
    const d = decide(
      base({
        identifiers: [anon, email],
        matches: [{ identifier: anon, profileId: 'p1' }],
        profiles: [{ profileId: 'p1', createdAt: 5, counts: { anonymous_id: 1 } }],
      }),
    );
    expect(d).toMatchObject({ action: 'attach', profileId: 'p1', attach: [email], merges: [] });
  });

  it('merges into the oldest profile, ties by the smaller id', () => {
    const d = decide(
      base({
        identifiers: [anon, email, user],
        matches: [
          { identifier: anon, profileId: 'p2' },
          { identifier: email, profileId: 'p3' },
          { identifier: user, profileId: 'p1' },
        ],
        profiles: [
          { profileId: 'p3', createdAt: 1, counts: { email: 1 } },
          { profileId: 'p2', createdAt: 1, counts: { anonymous_id: 1 } },
          { profileId: 'p1', createdAt: 9, counts: { user_id: 1 } },
        ],
      }),
    );
    expect(d).toMatchObject({ action: 'merge', profileId: 'p2', attach: [] });
    if (d.action === 'none') throw new Error('unexpected');
    expect(d.merges).toEqual([
      { mergeId: mergeIdFor('ws', 'p3', 'p2'), fromProfileId: 'p3', intoProfileId: 'p2', identifiers: [email, anon] },
      { mergeId: mergeIdFor('ws', 'p1', 'p2'), fromProfileId: 'p1', intoProfileId: 'p2', identifiers: [user, anon] },
    ]);
  });

  it('demotes the lowest-priority identifier rather than join two user ids', () => {
    const other: Identifier = { type: 'user_id', value: 'u2' };
    const d = decide(
      base({
        identifiers: [anon, other],
        matches: [{ identifier: anon, profileId: 'p1' }],
        profiles: [{ profileId: 'p1', createdAt: 1, counts: { user_id: 1, anonymous_id: 1 } }],
      }),
    );
    expect(d).toEqual({
      action: 'create',
      profileId: profileIdFor('ws', other),
      identifiers: [other],
      attach: [other],
      merges: [],
      demoted: [{ identifier: anon, limit: 'limits.user_id: 1' }],
    });
  });

  it('keeps a profile at its merge limit apart, yet gives it the event (Segment: "event resolution continues")', () => {
    // The user's profile p1 meets the anonymous visitor's p2, each having absorbed some before.
    const meet = (merges: [number, number], maxMerges: number) =>
      decide(
        base({
          identifiers: [user, anon],
          matches: [
            { identifier: user, profileId: 'p1' },
            { identifier: anon, profileId: 'p2' },
          ],
          profiles: [
            { profileId: 'p1', createdAt: 1, counts: { user_id: 1 }, merges: merges[0] },
            { profileId: 'p2', createdAt: 2, counts: { anonymous_id: 1 }, merges: merges[1] },
          ],
          rules: { ...rules, maxMerges },
        }),
      );
    expect(meet([2, 0], 2)).toMatchObject({
      action: 'attach',
      profileId: 'p1',
      identifiers: [user],
      merges: [],
      demoted: [{ identifier: anon, limit: 'maxMerges: 2' }],
    });
    // One merge below the limit, the same event merges (the absorbed profile's own merges count too).
    expect(meet([1, 1], 3)).toMatchObject({ action: 'merge', profileId: 'p1', demoted: [] });
    expect(meet([1, 1], 2)).toMatchObject({ action: 'attach', demoted: [{ identifier: anon, limit: 'maxMerges: 2' }] });
  });

  it('adds no identifier to a profile holding maxIdentifiers of them, whatever their types', () => {
    const d = decide(
      base({
        identifiers: [user, email, anon],
        matches: [{ identifier: user, profileId: 'p1' }],
        profiles: [{ profileId: 'p1', createdAt: 1, counts: { user_id: 1, email: 1, anonymous_id: 1 } }],
        rules: { ...rules, maxIdentifiers: 4 },
      }),
    );
    expect(d).toMatchObject({
      action: 'attach',
      profileId: 'p1',
      attach: [email],
      demoted: [{ identifier: anon, limit: 'maxIdentifiers: 4' }],
    });
  });

  it('says so when nothing identifies the event', () => {
    expect(decide(base({}))).toEqual({ action: 'none', reason: 'no_identifiers' });
  });
});

/** Random but consistent inputs: a pool of identifiers, some matched to a few profiles. */
const inputs = fc
  .record({
    identifiers: fc.uniqueArray(
      fc.record({
        type: fc.constantFrom('user_id', 'email', 'anonymous_id', 'phone', 'crm'),
        value: fc.constantFrom('1', '2', '3', '4', '5', '6'),
      }),
      { minLength: 1, maxLength: 8, selector: identifierKey },
    ),
    profiles: fc.uniqueArray(
      fc.record({
        profileId: fc.constantFrom('pa', 'pb', 'pc', 'pd'),
        createdAt: fc.integer({ min: 0, max: 3 }),
        counts: fc.record({
          user_id: fc.integer({ min: 0, max: 1 }),
          email: fc.integer({ min: 0, max: 5 }),
          anonymous_id: fc.integer({ min: 0, max: 5 }),
        }),
      }),
      { maxLength: 4, selector: (p) => p.profileId },
    ),
    seed: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
  })
  .map(({ identifiers, profiles, seed }): ResolutionInput => {
    const matches: IdentifierMatch[] = [];
    identifiers.forEach((identifier, i) => {
      const pick = (seed[i] ?? 0) % (profiles.length + 1);
      const profile = profiles[pick];
      if (profile) matches.push({ identifier, profileId: profile.profileId });
    });
    const used = new Set(matches.map((m) => m.profileId));
    return { workspaceId: 'ws', identifiers, matches, profiles: profiles.filter((p) => used.has(p.profileId)), rules };
  });

const permutation = <T>(items: T[]) => fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });

describe('decide: properties', () => {
  it('gives the same decision for the same input, in any order', () => {
    fc.assert(
      fc.property(
        inputs.chain((input) =>
          fc.tuple(fc.constant(input), permutation(input.identifiers), permutation(input.matches), permutation(input.profiles)),
        ),
        ([input, identifiers, matches, profiles]) => {
          expect(decide({ ...input, identifiers, matches, profiles })).toEqual(decide(input));
          expect(decide(structuredClone(input))).toEqual(decide(input));
        },
      ),
    );
  });

  it('chooses the oldest matched profile (ties by id) as survivor', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const d = decide(input);
        if (d.action === 'none' || d.action === 'create') return;
        const involved = new Set([d.profileId, ...d.merges.map((m) => m.fromProfileId)]);
        const oldest = input.profiles.filter((p) => involved.has(p.profileId)).sort(bySurvivorship)[0];
        expect(d.profileId).toBe(oldest?.profileId);
        for (const m of d.merges) expect(m.intoProfileId).toBe(d.profileId);
      }),
    );
  });

  it('never makes a profile exceed a limit, and only demotes', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const d = decide(input);
        if (d.action === 'none') throw new Error('inputs always carry identifiers');
        const involved = new Set([d.profileId, ...d.merges.map((m) => m.fromProfileId)]);
        const joined = combinedCounts(
          input.profiles.filter((p) => involved.has(p.profileId)),
          d.attach,
        );
        for (const [type, n] of Object.entries(joined)) {
          const before = Math.max(0, ...input.profiles.filter((p) => involved.has(p.profileId)).map((p) => p.counts[type] ?? 0));
          expect(n <= limitOf(rules, type) || n === before).toBe(true);
        }
        // Each left-out identifier names the rule it would have broken.
        for (const { limit } of d.demoted) expect(limit).toMatch(/^(limits\.[a-z_]+|maxIdentifiers|maxMerges): \d+$/);
        expect([...d.identifiers, ...d.demoted.map((x) => x.identifier)].map(identifierKey).sort()).toEqual(
          input.identifiers.map(identifierKey).sort(),
        );
        expect(d.identifiers.length).toBeGreaterThan(0);
      }),
    );
  });

  it('attaches exactly the kept identifiers that were unknown', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const d = decide(input);
        if (d.action === 'none') return;
        const known = new Set(input.matches.map((m) => identifierKey(m.identifier)));
        expect(d.attach.map(identifierKey).sort()).toEqual(
          d.identifiers
            .filter((id) => !known.has(identifierKey(id)))
            .map(identifierKey)
            .sort(),
        );
      }),
    );
  });
});
