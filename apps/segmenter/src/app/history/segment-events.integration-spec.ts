import { repositoryUnderTest } from '../../testing/repository-under-test';
import { MAX_OCCURRENCES } from './history-limits';
import { SegmentEventsRepository, type StoredEvent } from './segment-events.repository';

/** Event history records against the real store (FerretDB): concurrent records share a bulk, each is stored once, the newest are kept. */
describe('SegmentEventsRepository.record (FerretDB)', () => {
  const workspaceId = 'ws-history';
  const repository = repositoryUnderTest('segment-events', (mongo) => new SegmentEventsRepository(mongo));

  const occurrence = (profileId: string, messageId: string, timestamp: number): StoredEvent => ({
    profileId,
    eventName: 'Order Completed',
    messageId,
    timestamp,
    properties: JSON.stringify({ total: timestamp }),
  });
  const timestampsOf = async (profileId: string) =>
    ((await repository().forProfiles(workspaceId, [profileId], ['Order Completed'])).get(profileId) ?? []).map((e) => e.timestamp).sort();

  it('stores concurrent records of many profiles once each, a redelivered one among them', async () => {
    const events = repository();
    await events.record(workspaceId, occurrence('p-0', 'm-0a', 1));
    const batch = Array.from({ length: 20 }, (_, i) => occurrence(`p-${i}`, `m-${i}b`, 10 + i));
    // m-0a again, in the middle of the others: its duplicate key must not cost the others their writes.
    await Promise.all([...batch.slice(0, 10), occurrence('p-0', 'm-0a', 1), ...batch.slice(10)].map((e) => events.record(workspaceId, e)));
    await Promise.all(batch.slice(0, 5).map((e) => events.record(workspaceId, e)));
    expect(await timestampsOf('p-0')).toEqual([1, 10]);
    for (let i = 1; i < 20; i++) expect(await timestampsOf(`p-${i}`)).toEqual([10 + i]);
  });

  it('keeps the newest MAX_OCCURRENCES occurrences of a profile and event name, however many arrive', async () => {
    const events = repository();
    const total = MAX_OCCURRENCES + 60;
    for (let from = 0; from < total; from += 100)
      await Promise.all(
        Array.from({ length: Math.min(100, total - from) }, (_, i) =>
          events.record(workspaceId, occurrence('p-busy', `m-busy-${from + i}`, from + i)),
        ),
      );
    const kept = (await timestampsOf('p-busy')).sort((a, b) => a - b);
    expect(kept).toHaveLength(MAX_OCCURRENCES);
    expect([kept[0], kept.at(-1)]).toEqual([total - MAX_OCCURRENCES, total - 1]);
    // A redelivery of a kept one is still recognised.
    await events.record(workspaceId, occurrence('p-busy', `m-busy-${total - 1}`, total - 1));
    expect((await timestampsOf('p-busy')).sort((a, b) => a - b)).toEqual(kept);
  });
});
