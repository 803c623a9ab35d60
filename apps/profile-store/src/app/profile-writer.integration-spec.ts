import { MongoClient } from 'mongodb';
import type { IdentityMerge, ResolvedEvent } from '@cdp/contracts';
import type { MongoConnection } from '@cdp/mongo';
import { applyEvent, emptyProfile } from '@cdp/profile-model';
import { testScope } from '@cdp/testing';
import { resolvedEvent } from '../testing/profile-store-stack';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfileWriter } from './profile-writer';
import { ProfilesRepository } from './profiles.repository';

/**
 * The chunk path of ProfileWriter on real FerretDB (no service): one bulk compare-and-set for the
 * chunk, and the profiles it could not write (someone wrote in between, an insert lost, a
 * redirect) end up right through the one-profile path.
 */
const scope = testScope('pwriter');
const WS = 'ws-writer';
let client: MongoClient;
let profiles: ProfilesRepository;
let identifiers: ProfileIdentifiersRepository;
let writer: ProfileWriter;

beforeAll(async () => {
  client = await new MongoClient(scope.mongoUrl).connect();
  const mongo = { db: client.db(scope.database) } as unknown as MongoConnection;
  profiles = new ProfilesRepository(mongo);
  identifiers = new ProfileIdentifiersRepository(mongo);
  await profiles.ensureIndexes();
  await identifiers.ensureIndexes();
  writer = new ProfileWriter(profiles, identifiers);
});

afterAll(() => client?.close());

let seq = 0;
const event = (profileId: string, traits: Record<string, unknown>): ResolvedEvent =>
  resolvedEvent({
    workspaceId: WS,
    profileId,
    messageId: `pw-${scope.id}-${++seq}`,
    type: 'identify',
    timestamp: 1_000 + seq,
    receivedAt: 2_000 + seq,
    identifiers: [{ type: 'email', value: `${profileId}@example.com` }],
    traits: JSON.stringify(traits),
  });

/** Writes a profile as another writer would, between our read and our write. */
const storeDirectly = async (profileId: string, traits: Record<string, unknown>, expected: number) => {
  const current = (await profiles.get(WS, profileId)) ?? emptyProfile(WS, profileId, Date.now());
  const next = applyEvent(current, event(profileId, traits), Date.now()).profile;
  expect(await profiles.compareAndSet(next, expected)).toBe(true);
};

describe('compareAndSetMany (real FerretDB)', () => {
  it('writes what matches and names what does not: a stale version, an insert that lost', async () => {
    await storeDirectly('cas-a', { plan: 'a' }, 0);
    await storeDirectly('cas-b', { plan: 'b' }, 0);
    await storeDirectly('cas-taken', { plan: 'taken' }, 0);
    const a = (await profiles.get(WS, 'cas-a'))!;
    const b = (await profiles.get(WS, 'cas-b'))!;
    const bump = (p: typeof a) => ({ ...p, version: p.version + 1 });
    const written = await profiles.compareAndSetMany(WS, [
      { profile: bump(a), expected: a.version },
      { profile: bump(b), expected: b.version + 5 }, // stale
      { profile: emptyProfile(WS, 'cas-new', 1), expected: 0 },
      { profile: emptyProfile(WS, 'cas-taken', 1), expected: 0 }, // lost to the stored one
    ]);
    expect(written).toEqual([true, false, true, false]);
    expect((await profiles.get(WS, 'cas-a'))?.version).toBe(a.version + 1);
    expect((await profiles.get(WS, 'cas-b'))?.version).toBe(b.version);
    expect((await profiles.get(WS, 'cas-new'))?.version).toBe(0);
    expect((await profiles.get(WS, 'cas-taken'))?.traits['plan']?.value).toBe('taken');
  });
});

describe('applyChunk (real FerretDB)', () => {
  it('applies every profile of a chunk, new and stored, and keeps what another writer stored', async () => {
    await storeDirectly('chunk-old', { plan: 'old' }, 0);
    const ids = ['chunk-new-1', 'chunk-new-2', 'chunk-old'];
    const results = await writer.applyChunk(
      WS,
      ids.map((profileId) => ({ profileId, events: [event(profileId, { seen: profileId })] })),
    );
    expect(results.map((r) => r.profileId)).toEqual(ids);
    for (const id of ids) expect((await profiles.get(WS, id))?.traits['seen']?.value).toBe(id);
    // New identifiers point at their profiles (chunk-old's email was stored without the chunk).
    for (const id of ids.slice(0, 2)) expect(await identifiers.lookup(WS, `email:${id}@example.com`)).toBe(id);
    expect((await profiles.get(WS, 'chunk-old'))?.traits['plan']?.value).toBe('old');
    expect(results.every((r) => r.changes.length === 1)).toBe(true);
    expect(results[0]?.changes[0]?.change).toBe('created');
  });

  it('a profile written by someone else after the chunk read it is applied again on top of that write', async () => {
    await storeDirectly('race', { plan: 'before' }, 0);
    // Another writer slips in between the chunk's read and its bulk write.
    const getMany = profiles.getManyWithState.bind(profiles);
    const spy = jest.spyOn(profiles, 'getManyWithState').mockImplementationOnce(async (ws, ids) => {
      const loaded = await getMany(ws, ids);
      await storeDirectly('race', { other: 'writer' }, loaded.get('race')!.profile.version);
      return loaded;
    });
    const [result] = await writer.applyChunk(WS, [{ profileId: 'race', events: [event('race', { mine: 'chunk' })] }]);
    spy.mockRestore();
    const stored = (await profiles.get(WS, 'race'))!;
    expect(stored.traits['other']?.value).toBe('writer');
    expect(stored.traits['mine']?.value).toBe('chunk');
    expect(JSON.parse(result?.changes[0]?.traits ?? '{}')).toMatchObject({ mine: 'chunk', other: 'writer' });
  });

  it('follows a redirect of an absorbed profile to its survivor', async () => {
    await storeDirectly('survivor', { plan: 'kept' }, 0);
    const absorbed = emptyProfile(WS, 'absorbed', 1);
    expect(await profiles.compareAndSet({ ...absorbed, mergedInto: 'survivor', version: 1 }, 0)).toBe(true);
    const [result] = await writer.applyChunk(WS, [{ profileId: 'absorbed', events: [event('absorbed', { late: true })] }]);
    expect(result?.profileId).toBe('survivor');
    expect((await profiles.get(WS, 'survivor'))?.traits['late']?.value).toBe(true);
  });
});

const mergeOf = (fromProfileId: string, intoProfileId: string): IdentityMerge => ({
  workspaceId: WS,
  mergeId: `m-${fromProfileId}`,
  fromProfileId,
  intoProfileId,
  reason: 'shared_identifier',
  identifiers: [],
  score: null,
  messageId: `msg-${fromProfileId}`,
  mergedAt: 5_000,
  receivedAt: null,
});

const storedProfile = async (profileId: string) => {
  const profile = await profiles.get(WS, profileId);
  if (!profile) throw new Error(`no profile ${profileId}`);
  return profile;
};

describe('mergeMany (real FerretDB)', () => {
  it('folds independent merges together, and settles the odd ones one by one', async () => {
    for (const id of ['mm-into1', 'mm-from1', 'mm-into2', 'mm-from2', 'mm-final', 'mm-from3', 'mm-from4', 'mm-other'])
      await storeDirectly(id, { name: id }, 0);
    // mm-redirect was absorbed into mm-final before: a merge into it goes on to mm-final.
    expect(await profiles.compareAndSet({ ...emptyProfile(WS, 'mm-redirect', 1), mergedInto: 'mm-final', version: 1 }, 0)).toBe(true);
    // mm-from4 went to mm-other before: a merge of it elsewhere is skipped.
    const from4 = await storedProfile('mm-from4');
    expect(await profiles.compareAndSet({ ...from4, mergedInto: 'mm-other', version: from4.version + 1 }, from4.version)).toBe(true);
    const merges = [
      mergeOf('mm-from1', 'mm-into1'),
      mergeOf('mm-from2', 'mm-into2'),
      mergeOf('mm-from3', 'mm-redirect'),
      mergeOf('mm-from4', 'mm-into4'),
      mergeOf('mm-new', 'mm-into-new'),
    ];
    const changes = await writer.mergeMany(WS, merges);
    expect(changes.map((c) => c?.profileId ?? null)).toEqual(['mm-into1', 'mm-into2', 'mm-final', null, 'mm-into-new']);
    expect(changes.map((c) => c?.absorbedProfileIds ?? null)).toEqual([['mm-from1'], ['mm-from2'], ['mm-from3'], null, ['mm-new']]);
    const into1 = await storedProfile('mm-into1');
    expect(into1.absorbedProfileIds).toEqual(['mm-from1']);
    expect(into1.identifiers.map((i) => i.value).sort()).toEqual(['mm-from1@example.com', 'mm-into1@example.com']);
    expect((await profiles.get(WS, 'mm-from1'))?.mergedInto).toBe('mm-into1');
    expect((await profiles.get(WS, 'mm-final'))?.absorbedProfileIds).toEqual(['mm-from3']);
    expect((await profiles.get(WS, 'mm-new'))?.mergedInto).toBe('mm-into-new');
    // Again (a redelivery): nothing folded twice, the same answers.
    const again = await writer.mergeMany(WS, merges);
    expect(again.map((c) => c?.profileId ?? null)).toEqual(['mm-into1', 'mm-into2', 'mm-final', null, 'mm-into-new']);
    expect((await profiles.get(WS, 'mm-into1'))?.version).toBe(into1.version);
  });
});
