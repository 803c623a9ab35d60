import { repositoryUnderTest } from '../../testing/repository-under-test';
import { SegmentProfilesRepository, type ProfileSnapshot } from './segment-profiles.repository';

/** Snapshot batches against the real store (FerretDB): the newest version wins, whatever the order. */
describe('SegmentProfilesRepository.saveAll (FerretDB)', () => {
  const workspaceId = 'ws-snapshots';
  const repository = repositoryUnderTest('segment-profiles', (mongo) => new SegmentProfilesRepository(mongo));

  const snapshot = (profileId: string, version: number): ProfileSnapshot => ({
    profileId,
    version,
    traits: JSON.stringify({ v: version }),
    computedTraits: '{}',
    deleted: false,
    changedAt: version,
    identifiers: [{ type: 'user_id', value: profileId }],
  });
  const versionOf = async (profileId: string) => (await repository().get(workspaceId, profileId))?.version;

  it('inserts the missing, updates the older, keeps the newer, and takes the newest of a batch', async () => {
    expect(await repository().saveAll(workspaceId, [snapshot('older', 1), snapshot('newer', 5)])).toEqual([undefined, undefined]);
    const mark = { partition: 2, offset: 41, version: 1 };
    await repository().markEvaluated(workspaceId, [{ profileId: 'older', evaluated: mark }]);
    const evaluated = await repository().saveAll(workspaceId, [
      snapshot('older', 3),
      snapshot('older', 2),
      snapshot('newer', 4),
      snapshot('fresh', 7),
      snapshot('fresh', 6),
    ]);
    // The snapshots as they were before the batch, one per snapshot: the evaluated mark is how the
    // consumer tells a redelivered change, `deleted` and the version a late one.
    const olderBefore = { version: 1, deleted: false, evaluated: mark };
    expect(evaluated).toEqual([olderBefore, olderBefore, { version: 5, deleted: false }, undefined, undefined]);
    expect(await versionOf('older')).toBe(3);
    expect(await versionOf('newer')).toBe(5);
    expect(await versionOf('fresh')).toBe(7);
    expect(JSON.parse((await repository().get(workspaceId, 'older'))?.traits ?? 'null')).toEqual({ v: 3 });
  });

  it('keeps the evaluated mark through later snapshots', async () => {
    const mark = { partition: 0, offset: 7, version: 4 };
    await repository().saveAll(workspaceId, [snapshot('marked', 4)]);
    await repository().markEvaluated(workspaceId, [{ profileId: 'marked', evaluated: mark }]);
    expect(await repository().saveAll(workspaceId, [snapshot('marked', 6)])).toEqual([{ version: 4, deleted: false, evaluated: mark }]);
    expect(await repository().get(workspaceId, 'marked')).toMatchObject({ version: 6, evaluated: mark });
  });

  it('two batches racing on a missing profile leave its newest snapshot', async () => {
    await Promise.all([
      repository().saveAll(workspaceId, [snapshot('raced', 2)]),
      repository().saveAll(workspaceId, [snapshot('raced', 9)]),
    ]);
    expect(await versionOf('raced')).toBe(9);
  });

  it('keeps other workspaces apart', async () => {
    await repository().saveAll('ws-other', [snapshot('older', 100)]);
    expect(await versionOf('older')).toBe(3);
  });
});
