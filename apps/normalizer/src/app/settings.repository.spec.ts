import type { MongoConnection } from '@cdp/mongo';
import { SETTINGS_CACHE_MS, SettingsRepository } from './settings.repository';

const repositoryWith = (docs: Record<string, unknown>[]) => {
  const findOne = jest.fn(async (filter: { workspaceId: string }) => docs.find((d) => d['workspaceId'] === filter.workspaceId) ?? null);
  const mongo = { db: { collection: () => ({ findOne }) } } as unknown as MongoConnection;
  return { repo: new SettingsRepository(mongo), findOne };
};

describe('SettingsRepository', () => {
  it('answers the defaults for a workspace without settings', async () => {
    const { repo } = repositoryWith([]);
    expect(await repo.options('ws', 0)).toEqual({ defaultRegion: 'US', anonymizeIp: false });
  });

  it('reads a workspace once per cache period', async () => {
    const { repo, findOne } = repositoryWith([{ workspaceId: 'ws', defaultRegion: 'DE', anonymizeIp: true }]);
    expect(await repo.options('ws', 0)).toEqual({ defaultRegion: 'DE', anonymizeIp: true });
    await repo.options('ws', SETTINGS_CACHE_MS - 1);
    expect(findOne).toHaveBeenCalledTimes(1);
    await repo.options('ws', SETTINGS_CACHE_MS);
    expect(findOne).toHaveBeenCalledTimes(2);
    expect(findOne).toHaveBeenCalledWith({ workspaceId: 'ws' }, undefined);
  });

  it('does not keep a failed read', async () => {
    const findOne = jest.fn().mockRejectedValueOnce(new Error('down')).mockResolvedValue(null);
    const repo = new SettingsRepository({ db: { collection: () => ({ findOne }) } } as unknown as MongoConnection);
    await expect(repo.options('ws', 0)).rejects.toThrow('down');
    expect(await repo.options('ws', 1)).toEqual({ defaultRegion: 'US', anonymizeIp: false });
  });
});
