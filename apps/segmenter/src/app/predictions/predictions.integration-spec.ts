import { MongoConnection } from '@cdp/mongo';
import { HealthRegistry, loadConfig, PlatformConfig } from '@cdp/platform';
import { DAY_MS, syntheticCustomers } from '@cdp/predictions';
import { testScope } from '@cdp/testing';
import { SegmentEventsRepository } from '../history/segment-events.repository';
import { SegmentProfilesRepository } from '../history/segment-profiles.repository';
import { ORDER_EVENT } from './order-histories';
import { PredictionReportsRepository } from './prediction-reports.repository';
import { PredictionWorkspacesRepository } from './prediction-workspaces.repository';
import { PredictionsService } from './predictions.service';
import { SegmentPredictionsRepository } from './segment-predictions.repository';
import { SegmenterConfig } from '../segmenter.config';

/**
 * The service against the real store (FerretDB): snapshots and Order Completed history written
 * through the segmenter's own repositories, predictions computed and stored, rerun and removal.
 */
describe('PredictionsService (FerretDB)', () => {
  const scope = testScope('predictions');
  const workspaceId = 'ws-pred';
  const asOf = Date.UTC(2026, 0, 1);
  let mongo: MongoConnection;
  let profiles: SegmentProfilesRepository;
  let events: SegmentEventsRepository;
  let predictions: SegmentPredictionsRepository;
  let service: PredictionsService;
  const customers = syntheticCustomers({ customers: 200, days: 365, seed: 11, end: asOf });

  beforeAll(async () => {
    mongo = new MongoConnection(Object.assign(new PlatformConfig(), { MONGO_URL: scope.mongoUrl }), new HealthRegistry());
    profiles = new SegmentProfilesRepository(mongo);
    events = new SegmentEventsRepository(mongo);
    predictions = new SegmentPredictionsRepository(mongo);
    const reports = new PredictionReportsRepository(mongo);
    for (const r of [profiles, events, predictions, reports]) await r.ensureIndexes();
    service = new PredictionsService(
      loadConfig(SegmenterConfig, { SEGMENTER_PREDICTIONS_INTERVAL_MS: '0' }),
      profiles,
      events,
      predictions,
      reports,
      new PredictionWorkspacesRepository(mongo),
    );
    // A few profiles at a time (each one's orders in sequence): the shared store is slow per write.
    const queue = customers.map((c) => c.history);
    const worker = async () => {
      for (let history = queue.shift(); history; history = queue.shift()) {
        await profiles.saveAll(workspaceId, [{ profileId: history.profileId, version: 1, traits: '{}', deleted: false, changedAt: asOf }]);
        for (const [i, o] of history.orders.entries())
          await events.record(workspaceId, {
            profileId: history.profileId,
            eventName: ORDER_EVENT,
            messageId: `${history.profileId}-${i}`,
            timestamp: o.at,
            properties: JSON.stringify({ revenue: o.revenue }),
          });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // Another workspace's customer must not leak into this one's population.
    await profiles.saveAll('ws-other', [{ profileId: 'x', version: 1, traits: '{}', deleted: false, changedAt: asOf }]);
    await events.record('ws-other', {
      profileId: 'x',
      eventName: ORDER_EVENT,
      messageId: 'x1',
      timestamp: asOf - DAY_MS,
      properties: '{}',
    });
  });

  afterAll(async () => {
    await mongo.db.dropDatabase().catch(() => undefined);
    await mongo.client.close();
  });

  it('stores a prediction per customer and a model report', async () => {
    const run = await service.run(workspaceId, asOf);
    const buyers = customers.filter((c) => c.history.orders.length > 0);
    expect(run.predicted).toBe(buyers.length);
    expect(run.report.profiles).toBe(customers.length);
    expect(await predictions.count(workspaceId)).toBe(buyers.length);
    expect(run.report.churn.status).toBe('trained');
    if (run.report.churn.status === 'trained') expect(run.report.churn.evaluation.auc).toBeGreaterThan(0.7);
    const one = await predictions.get(workspaceId, buyers[0]?.history.profileId ?? '');
    expect(one?.predicted_rfm).toMatch(/^[1-5]{3}$/);
    expect(one?.features.frequency).toBe(buyers[0]?.history.orders.length);
    const traits = await predictions.traitsFor(workspaceId, [buyers[0]?.history.profileId ?? '', 'nobody']);
    expect([...traits.keys()]).toEqual([buyers[0]?.history.profileId]);
    const stored = await service.report(workspaceId);
    expect(stored?.report).toEqual(JSON.parse(JSON.stringify(run.report)));
    expect(await predictions.count('ws-other')).toBe(0);
  });

  it('gives the same predictions on a rerun and drops those of profiles that are gone', async () => {
    const ids = customers.map((c) => c.history.profileId);
    const before = await predictions.traitsFor(workspaceId, ids);
    await service.run(workspaceId, asOf);
    expect(await predictions.traitsFor(workspaceId, ids)).toEqual(before);
    const gone = customers.find((c) => c.history.orders.length > 0)?.history.profileId ?? '';
    await profiles.saveAll(workspaceId, [{ profileId: gone, version: 2, traits: '{}', deleted: true, changedAt: asOf }]);
    const run = await service.run(workspaceId, asOf + 1);
    expect(await predictions.get(workspaceId, gone)).toBeNull();
    expect(await predictions.count(workspaceId)).toBe(run.predicted);
    expect(run.predicted).toBe(before.size - 1);
    expect(await new PredictionWorkspacesRepository(mongo).workspaces()).toEqual(['ws-other', workspaceId].sort());
  });
});
