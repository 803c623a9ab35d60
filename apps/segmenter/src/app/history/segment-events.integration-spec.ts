import { MongoConnection } from '@cdp/mongo';
import { HealthRegistry, PlatformConfig } from '@cdp/platform';
import { testScope } from '@cdp/testing';
import { SegmentEventsRepository, type StoredEvent } from './segment-events.repository';

/** Event history records against the real store (FerretDB): concurrent records share a bulk, and each is stored once. */
describe('SegmentEventsRepository.record (FerretDB)', () => {
  const scope = testScope('segment-events');
  const workspaceId = 'ws-history';
  let mongo: MongoConnection;
  let events: SegmentEventsRepository;

  const occurrence = (profileId: string, messageId: string, timestamp: number): StoredEvent => ({
    profileId,
    eventName: 'Order Completed',
    messageId,
    timestamp,
    properties: JSON.stringify({ total: timestamp }),
  });
  const timestampsOf = async (profileId: string) =>
    ((await events.forProfiles(workspaceId, [profileId], ['Order Completed'])).get(profileId) ?? []).map((e) => e.timestamp).sort();

  beforeAll(async () => {
    mongo = new MongoConnection(Object.assign(new PlatformConfig(), { MONGO_URL: scope.mongoUrl }), new HealthRegistry());
    events = new SegmentEventsRepository(mongo);
    await events.ensureIndexes();
  });

  afterAll(async () => {
    await mongo.db.dropDatabase().catch(() => undefined);
    await mongo.client.close();
  });

  it('stores concurrent records of many profiles once each, a redelivered one among them', async () => {
    await events.record(workspaceId, occurrence('p-0', 'm-0a', 1));
    const batch = Array.from({ length: 20 }, (_, i) => occurrence(`p-${i}`, `m-${i}b`, 10 + i));
    // m-0a again, in the middle of the others: its duplicate key must not cost the others their writes.
    await Promise.all([...batch.slice(0, 10), occurrence('p-0', 'm-0a', 1), ...batch.slice(10)].map((e) => events.record(workspaceId, e)));
    await Promise.all(batch.slice(0, 5).map((e) => events.record(workspaceId, e)));
    expect(await timestampsOf('p-0')).toEqual([1, 10]);
    for (let i = 1; i < 20; i++) expect(await timestampsOf(`p-${i}`)).toEqual([10 + i]);
  });
});
