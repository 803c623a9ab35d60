import type { NormalizedEvent } from '@cdp/contracts';
import { DEFAULT_IDENTITY_RULES, profileIdFor } from '@cdp/identity-graph';
import type { IdentitiesRepository } from './identities.repository';
import type { IdentityProfilesRepository } from './identity-profiles.repository';
import { ResolverService } from './resolver.service';
import { FakeIdentities, FakeProfiles, normalizedEvent as event } from './testing/in-memory-graph';

describe('ResolverService', () => {
  let identities: FakeIdentities;
  let profiles: FakeProfiles;
  let resolver: ResolverService;
  const resolve = (e: NormalizedEvent) => resolver.resolve(e, DEFAULT_IDENTITY_RULES);

  beforeEach(() => {
    identities = new FakeIdentities();
    profiles = new FakeProfiles();
    resolver = new ResolverService(identities as unknown as IdentitiesRepository, profiles as unknown as IdentityProfilesRepository);
  });

  it('creates, attaches and merges into the oldest profile, counting each identifier once', async () => {
    const anonProfile = profileIdFor('ws', { type: 'anonymous_id', value: 'a1' });
    expect(await resolve(event('e1', { anonymousId: 'a1' }))).toMatchObject({ ok: true, action: 'create', profileId: anonProfile });
    expect(await resolve(event('e2', { anonymousId: 'a1', userId: 'u1' }))).toMatchObject({
      ok: true,
      action: 'attach',
      profileId: anonProfile,
    });
    const emailProfile = profileIdFor('ws', { type: 'email', value: 'j@x.io' });
    expect(await resolve(event('e3', { anonymousId: 'a2', traits: '{"email":"j@x.io"}' }))).toMatchObject({
      action: 'create',
      profileId: emailProfile,
    });

    const linking = event('e4', { userId: 'u1', traits: '{"email":"j@x.io"}' });
    const merged = await resolve(linking);
    expect(merged).toMatchObject({ ok: true, action: 'merge', profileId: anonProfile });
    if (!merged.ok) throw new Error('expected a resolution');
    expect(merged.merges.map((m) => [m.fromProfileId, m.intoProfileId, m.merge.messageId])).toEqual([[emailProfile, anonProfile, 'e4']]);
    expect(profiles.canonical('ws', emailProfile)).toBe(anonProfile);
    expect(profiles.docs.get(`ws/${anonProfile}`)?.counts).toEqual({ anonymous_id: 2, user_id: 1, email: 1 });

    // Redelivery: no new effect, the same outputs.
    const again = await resolve(linking);
    expect(again).toEqual({ ...merged, action: 'attach' });
    expect(profiles.docs.get(`ws/${anonProfile}`)?.counts).toEqual({ anonymous_id: 2, user_id: 1, email: 1 });
  });

  it('demotes the anonymous id rather than give one profile two user ids', async () => {
    await resolve(event('e1', { anonymousId: 'shared-device', userId: 'u1' }));
    const second = await resolve(event('e2', { anonymousId: 'shared-device', userId: 'u2' }));
    expect(second).toMatchObject({
      ok: true,
      action: 'create',
      profileId: profileIdFor('ws', { type: 'user_id', value: 'u2' }),
      identifiers: [{ type: 'user_id', value: 'u2' }],
    });
  });

  it('rejects an event with nothing but blocked identifiers', async () => {
    expect(await resolve(event('e1', { anonymousId: 'anonymous', userId: '0' }))).toMatchObject({ ok: false, reason: 'no_identifiers' });
    expect(identities.docs.size).toBe(0);
  });

  it('converges when instances resolve linked events at the same time', async () => {
    await resolve(event('e1', { anonymousId: 'a1' }));
    await resolve(event('e2', { anonymousId: 'a2' }));
    await resolve(event('e3', { anonymousId: 'a3' }));
    const other = new ResolverService(identities as unknown as IdentitiesRepository, profiles as unknown as IdentityProfilesRepository);
    const results = await Promise.all([
      resolve(event('e4', { anonymousId: 'a2', context: '{"device":{"id":"d1"}}' })),
      other.resolve(event('e5', { anonymousId: 'a3', context: '{"device":{"id":"d1"}}' }), DEFAULT_IDENTITY_RULES),
      resolve(event('e6', { anonymousId: 'a1', traits: '{"phone":"+49 1"}', context: '{"device":{"id":"d1"}}' })),
    ]);
    const roots = new Set(['a1', 'a2', 'a3'].map((a) => profiles.canonical('ws', profileIdFor('ws', { type: 'anonymous_id', value: a }))));
    expect(roots).toEqual(new Set([profileIdFor('ws', { type: 'anonymous_id', value: 'a1' })]));
    expect(results.at(-1)).toMatchObject({ ok: true, profileId: [...roots][0] });
  });

  it('links an alias previousId (an anonymous id) to the userId with reason alias', async () => {
    const anonProfile = profileIdFor('ws', { type: 'anonymous_id', value: 'visitor' });
    const userProfile = profileIdFor('ws', { type: 'user_id', value: 'u7' });
    await resolve(event('e1', { anonymousId: 'visitor' }));
    await resolve(event('e2', { userId: 'u7' }));
    const alias = await resolve(event('e3', { type: 'alias', userId: 'u7', previousId: 'visitor' }));
    expect(alias).toMatchObject({ ok: true, action: 'merge', profileId: anonProfile });
    if (!alias.ok) throw new Error('expected a resolution');
    expect(alias.merges).toHaveLength(1);
    expect(alias.merges[0]).toMatchObject({
      fromProfileId: userProfile,
      intoProfileId: anonProfile,
      merge: {
        reason: 'alias',
        messageId: 'e3',
        identifiers: [
          { type: 'user_id', value: 'u7' },
          { type: 'anonymous_id', value: 'visitor' },
        ],
      },
    });
  });

  it('reads a known previous user id as a user id, and keeps the user-id limit', async () => {
    await resolve(event('e1', { userId: 'old' }));
    const alias = await resolve(event('e2', { type: 'alias', userId: 'new', previousId: 'old' }));
    // Two user ids may not share a profile (limit 1): the weaker previous id is demoted.
    expect(alias).toMatchObject({ ok: true, action: 'create', identifiers: [{ type: 'user_id', value: 'new' }] });
    expect(profiles.canonical('ws', profileIdFor('ws', { type: 'user_id', value: 'old' }))).toBe(
      profileIdFor('ws', { type: 'user_id', value: 'old' }),
    );
    // An unknown previousId is taken as an anonymous id and attached.
    const fresh = await resolve(event('e3', { type: 'alias', userId: 'new', previousId: 'never-seen' }));
    expect(fresh).toMatchObject({
      ok: true,
      action: 'attach',
      identifiers: [
        { type: 'user_id', value: 'new' },
        { type: 'anonymous_id', value: 'never-seen' },
      ],
    });
    // A blocked previousId is no identifier.
    expect(await resolve(event('e4', { type: 'alias', previousId: 'anonymous' }))).toMatchObject({ ok: false, reason: 'no_identifiers' });
  });

  it('counts a windowed limit over event time: an old email stops counting once the window has passed', async () => {
    const day = 86_400_000;
    const rules = {
      ...DEFAULT_IDENTITY_RULES,
      limits: { user_id: 1, email: Number.POSITIVE_INFINITY },
      windows: { email: { max: 1, windowMs: 30 * day } },
    };
    const user = profileIdFor('ws', { type: 'user_id', value: 'u1' });
    await resolver.resolve(event('e1', { userId: 'u1', traits: '{"email":"a@x.io"}', timestamp: 0 }), rules);
    // 10 days later a second email would make two within 30 days: demoted.
    const within = await resolver.resolve(event('e2', { userId: 'u1', traits: '{"email":"b@x.io"}', timestamp: 10 * day }), rules);
    expect(within).toMatchObject({ ok: true, profileId: user, identifiers: [{ type: 'user_id', value: 'u1' }] });
    // 40 days later the first one is out of the window: attached.
    const later = await resolver.resolve(event('e3', { userId: 'u1', traits: '{"email":"c@x.io"}', timestamp: 40 * day }), rules);
    expect(later).toMatchObject({
      ok: true,
      profileId: user,
      identifiers: [
        { type: 'user_id', value: 'u1' },
        { type: 'email', value: 'c@x.io' },
      ],
    });
    expect(Object.values(profiles.docs.get(`ws/${user}`)?.stamps ?? {})).toEqual([
      { type: 'user_id', at: 0 },
      { type: 'email', at: 0 },
      { type: 'email', at: 40 * day },
    ]);
    // A late event dated between the two would put two in one window either way: demoted.
    const late = await resolver.resolve(event('e4', { userId: 'u1', traits: '{"email":"d@x.io"}', timestamp: 20 * day }), rules);
    expect(late).toMatchObject({ ok: true, identifiers: [{ type: 'user_id', value: 'u1' }] });
  });

  it('does not merge on a redelivery what the first delivery refused for a window', async () => {
    const day = 86_400_000;
    const rules = {
      ...DEFAULT_IDENTITY_RULES,
      limits: { user_id: 1, email: Number.POSITIVE_INFINITY },
      windows: { email: { max: 1, windowMs: 30 * day } },
    };
    const linking = event('e2', { userId: 'u1', traits: '{"email":"b@x.io"}', timestamp: 10 * day });
    await resolver.resolve(event('e1', { userId: 'u1', traits: '{"email":"a@x.io"}', timestamp: 0 }), rules);
    expect(await resolver.resolve(linking, rules)).toMatchObject({ identifiers: [{ type: 'user_id', value: 'u1' }] });
    // The demoted email starts a profile of its own, at a time far from the first email.
    await resolver.resolve(event('e3', { anonymousId: 'z', traits: '{"email":"b@x.io"}', timestamp: 100 * day }), rules);
    const again = await resolver.resolve(linking, rules);
    expect(again).toMatchObject({ ok: true, action: 'attach', identifiers: [{ type: 'user_id', value: 'u1' }] });
    expect(profiles.canonical('ws', profileIdFor('ws', { type: 'email', value: 'b@x.io' }))).toBe(
      profileIdFor('ws', { type: 'email', value: 'b@x.io' }),
    );
  });

  it('does not attach on a redelivery what was demoted alongside a windowed identifier', async () => {
    const day = 86_400_000;
    const rules = {
      ...DEFAULT_IDENTITY_RULES,
      limits: { user_id: 1, email: Number.POSITIVE_INFINITY },
      windows: { email: { max: 1, windowMs: 30 * day } },
    };
    const both = event('e2', { userId: 'u1', anonymousId: 'a1', traits: '{"email":"b@x.io"}', timestamp: 0 });
    await resolver.resolve(event('e1', { userId: 'u1', traits: '{"email":"a@x.io"}', timestamp: 0 }), rules);
    // The second email breaks the window; the anonymous id, weaker, is demoted first.
    expect(await resolver.resolve(both, rules)).toMatchObject({ identifiers: [{ type: 'user_id', value: 'u1' }] });
    // 100 days later the second email is attached.
    await resolver.resolve(event('e3', { userId: 'u1', traits: '{"email":"b@x.io"}', timestamp: 100 * day }), rules);
    // Redelivered, e2 still shows two emails within 30 days (a@ and b@ at day 0): the same answer.
    expect(await resolver.resolve(both, rules)).toMatchObject({ identifiers: [{ type: 'user_id', value: 'u1' }] });
    expect(identities.docs.has(JSON.stringify(['ws', 'anonymous_id', 'a1']))).toBe(false);
  });
});
