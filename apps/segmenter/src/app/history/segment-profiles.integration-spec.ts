import { MongoConnection } from '@cdp/mongo';
import { HealthRegistry, PlatformConfig } from '@cdp/platform';
import { testScope } from '@cdp/testing';
import { SegmentProfilesRepository, type ProfileSnapshot } from './segment-profiles.repository';

/** Snapshot batches against the real store (FerretDB): the newest version wins, whatever the order. */
describe('SegmentProfilesRepository.saveAll (FerretDB)', () => {
  const scope = testScope('segment-profiles');
  const workspaceId = 'ws-snapshots';
  let mongo: MongoConnection;
  let profiles: SegmentProfilesRepository;

  const snapshot = (profileId: string, version: number): ProfileSnapshot => ({
    profileId,
    version,
    traits: JSON.stringify({ v: version }),
    computedTraits: '{}',
    deleted: false,
    changedAt: version,
    identifiers: [{ type: 'user_id', value: profileId }],
  });
  const versionOf = async (profileId: string) => (await profiles.get(workspaceId, profileId))?.version;

  beforeAll(async () => {
    mongo = new MongoConnection(Object.assign(new PlatformConfig(), { MONGO_URL: scope.mongoUrl }), new HealthRegistry());
    profiles = new SegmentProfilesRepository(mongo);
    await profiles.ensureIndexes();
  });

  afterAll(async () => {
    await mongo.db.dropDatabase().catch(() => undefined);
    await mongo.client.close();
  });

  it('inserts the missing, updates the older, keeps the newer, and takes the newest of a batch', async () => {
    await profiles.saveAll(workspaceId, [snapshot('older', 1), snapshot('newer', 5)]);
    await profiles.saveAll(workspaceId, [
      snapshot('older', 3),
      snapshot('older', 2),
      snapshot('newer', 4),
      snapshot('fresh', 7),
      snapshot('fresh', 6),
    ]);
    expect(await versionOf('older')).toBe(3);
    expect(await versionOf('newer')).toBe(5);
    expect(await versionOf('fresh')).toBe(7);
    expect(JSON.parse((await profiles.get(workspaceId, 'older'))?.traits ?? 'null')).toEqual({ v: 3 });
  });

  it('two batches racing on a missing profile leave its newest snapshot', async () => {
    await Promise.all([profiles.saveAll(workspaceId, [snapshot('raced', 2)]), profiles.saveAll(workspaceId, [snapshot('raced', 9)])]);
    expect(await versionOf('raced')).toBe(9);
  });

  it('keeps other workspaces apart', async () => {
    await profiles.saveAll('ws-other', [snapshot('older', 100)]);
    expect(await versionOf('older')).toBe(3);
  });
});
