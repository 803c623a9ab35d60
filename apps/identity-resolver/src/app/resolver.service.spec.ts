import type { NormalizedEvent } from '@cdp/contracts';
import { DEFAULT_IDENTITY_RULES, identifierDigest, profileIdFor, type Identifier } from '@cdp/identity-graph';
import type { IdentitiesRepository, IdentityDoc } from './identities.repository';
import type { IdentityProfileDoc, IdentityProfilesRepository, MergeInfo, MergeOutcome } from './identity-profiles.repository';
import { ResolverService } from './resolver.service';

/** In-memory stand-ins with the same single-document semantics as the MongoDB repositories. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

class FakeIdentities {
  readonly docs = new Map<string, IdentityDoc>();
  private key = (ws: string, id: Identifier) => JSON.stringify([ws, id.type, id.value]);
  async findMany(ws: string, ids: Identifier[]): Promise<IdentityDoc[]> {
    await tick();
    return ids.flatMap((id) => this.docs.get(this.key(ws, id)) ?? []).map((d) => ({ ...d }));
  }
  async get(ws: string, id: Identifier): Promise<IdentityDoc | null> {
    await tick();
    return this.docs.get(this.key(ws, id)) ?? null;
  }
  async claim(ws: string, id: Identifier, profileId: string): Promise<string> {
    await tick();
    const k = this.key(ws, id);
    if (!this.docs.has(k)) this.docs.set(k, { workspaceId: ws, type: id.type, value: id.value, profileId, createdAt: new Date() });
    return (this.docs.get(k) as IdentityDoc).profileId;
  }
}

class FakeProfiles {
  readonly docs = new Map<string, IdentityProfileDoc>();
  async findMany(ws: string, ids: string[]): Promise<IdentityProfileDoc[]> {
    await tick();
    return ids
      .flatMap((id) => this.docs.get(`${ws}/${id}`) ?? [])
      .map((d) => ({
        ...d,
        merge: d.merge ? { ...d.merge } : null,
        counts: { ...d.counts },
        counted: [...d.counted],
        absorbed: [...d.absorbed],
      }));
  }
  async ensure(ws: string, profileId: string, createdAt: Date): Promise<void> {
    await tick();
    const k = `${ws}/${profileId}`;
    if (!this.docs.has(k))
      this.docs.set(k, { workspaceId: ws, profileId, createdAt, mergedInto: null, merge: null, counts: {}, counted: [], absorbed: [] });
  }
  async markMerged(ws: string, from: string, into: string, merge: MergeInfo): Promise<MergeOutcome> {
    await tick();
    const doc = this.docs.get(`${ws}/${from}`);
    if (doc && doc.mergedInto === null) {
      Object.assign(doc, { mergedInto: into, merge });
      return { status: 'merged', merge };
    }
    return doc?.mergedInto === into && doc.merge ? { status: 'already', merge: doc.merge } : { status: 'conflict' };
  }
  async absorbCounts(ws: string, into: string, from: string, counts: Record<string, number>): Promise<void> {
    await tick();
    const doc = this.docs.get(`${ws}/${into}`);
    if (!doc || doc.absorbed.includes(from)) return;
    doc.absorbed.push(from);
    for (const [t, n] of Object.entries(counts)) doc.counts[t] = (doc.counts[t] ?? 0) + n;
  }
  async countIdentifier(ws: string, profileId: string, id: Identifier): Promise<void> {
    await tick();
    const doc = this.docs.get(`${ws}/${profileId}`);
    const digest = identifierDigest(id);
    if (!doc || doc.counted.includes(digest)) return;
    doc.counted.push(digest);
    doc.counts[id.type] = (doc.counts[id.type] ?? 0) + 1;
  }
  canonical(ws: string, profileId: string): string {
    let doc = this.docs.get(`${ws}/${profileId}`);
    while (doc?.mergedInto) doc = this.docs.get(`${ws}/${doc.mergedInto}`);
    return doc?.profileId ?? 'missing';
  }
}

let receivedAt = 1_000;
const event = (messageId: string, over: Partial<NormalizedEvent>): NormalizedEvent => ({
  workspaceId: 'ws',
  sourceId: null,
  messageId,
  type: 'identify',
  event: null,
  name: null,
  userId: null,
  anonymousId: null,
  groupId: null,
  previousId: null,
  timestamp: receivedAt,
  receivedAt: receivedAt++,
  traits: '{}',
  properties: '{}',
  context: '{}',
  violations: [],
  ...over,
});

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
});
