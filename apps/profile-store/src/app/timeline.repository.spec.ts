import type { MongoConnection } from '@cdp/mongo';
import { TimelineRepository } from './timeline.repository';

/** The repository over a collection that records the filters it is asked (the query's shape is what is tested). */
function recording() {
  const filters: unknown[] = [];
  const collection = {
    find: (filter: unknown) => {
      filters.push(filter);
      return { toArray: async () => [] };
    },
  };
  const repo = new TimelineRepository({ db: { collection: () => collection } } as unknown as MongoConnection);
  return { repo, filters };
}

const cursorOr = [{ timestamp: { $lt: 5_000 } }, { timestamp: 5_000, messageId: { $lt: 'm9' } }];
const nameOr = [
  { type: 'track', event: { $eq: 'Order Completed' } },
  { type: { $in: ['page', 'screen'] }, name: { $eq: 'Order Completed' } },
];

describe('TimelineRepository.page', () => {
  it('asks what it asked before when no filter is given (the export pages this way)', async () => {
    const { repo, filters } = recording();
    await repo.page('ws', ['p', 'q'], 10, null);
    await repo.page('ws', ['p'], 10, { timestamp: 5_000, messageId: 'm9' });
    expect(filters).toEqual([
      { profileId: { $in: ['p', 'q'] }, workspaceId: 'ws' },
      { profileId: { $in: ['p'] }, $or: cursorOr, workspaceId: 'ws' },
    ]);
  });

  it('adds the time range and the name, each alongside the cursor', async () => {
    const { repo, filters } = recording();
    await repo.page('ws', ['p'], 10, null, { since: 1_000, until: 9_000 });
    await repo.page('ws', ['p'], 10, null, { until: 9_000 });
    await repo.page('ws', ['p'], 10, null, { event: 'Order Completed' });
    await repo.page('ws', ['p'], 10, { timestamp: 5_000, messageId: 'm9' }, { event: 'Order Completed', since: 1_000 });
    expect(filters).toEqual([
      { profileId: { $in: ['p'] }, timestamp: { $gte: 1_000, $lt: 9_000 }, workspaceId: 'ws' },
      { profileId: { $in: ['p'] }, timestamp: { $lt: 9_000 }, workspaceId: 'ws' },
      { profileId: { $in: ['p'] }, $or: nameOr, workspaceId: 'ws' },
      { profileId: { $in: ['p'] }, timestamp: { $gte: 1_000 }, $and: [{ $or: cursorOr }, { $or: nameOr }], workspaceId: 'ws' },
    ]);
  });

  it('compares a name that looks like an operator as a value', async () => {
    const { repo, filters } = recording();
    await repo.page('ws', ['p'], 10, null, { event: '$where' });
    expect(JSON.stringify(filters[0])).toContain('"event":{"$eq":"$where"}');
  });
});
