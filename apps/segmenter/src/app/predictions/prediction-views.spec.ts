import type { PredictionReport } from '@cdp/predictions';
import { latestReportView, reportView, runView, segmentPredictionView } from './prediction-views';

const T = Date.UTC(2026, 0, 1);
const ISO = '2026-01-01T00:00:00.000Z';
const DAY_MS = 86_400_000;

const report = (churn: PredictionReport['churn']): PredictionReport => ({
  asOf: T,
  profiles: 3,
  customers: 2,
  rfmTiers: {} as PredictionReport['rfmTiers'],
  churn,
  clusters: { status: 'too_few_customers' },
});

const trained: PredictionReport['churn'] = {
  status: 'trained',
  horizonDays: 30,
  coefficients: {} as Extract<PredictionReport['churn'], { status: 'trained' }>['coefficients'],
  evaluation: {
    cutoff: T - 30 * DAY_MS,
    trainSize: 10,
    testSize: 5,
    churnRate: 0.2,
    auc: 0.8,
    baselineRecencyAuc: 0.7,
    brier: 0.1,
    baselineBrier: 0.2,
    expectedCalibrationError: 0.05,
    reliability: [],
  },
};

describe('prediction views', () => {
  it('answers every time of a report in ISO 8601, the rest as computed', () => {
    const view = reportView(report(trained));
    expect(view.asOf).toBe(ISO);
    expect(view.churn).toEqual({ ...trained, evaluation: { ...trained.evaluation, cutoff: '2025-12-02T00:00:00.000Z' } });
    expect(view.clusters).toEqual({ status: 'too_few_customers' });
    const untrained = { status: 'insufficient_history', reason: 'too few', examples: 3 } as const;
    expect(reportView(report(untrained)).churn).toEqual(untrained);
  });

  it('answers run and latest-report times in ISO 8601', () => {
    const run = runView({
      workspaceId: 'w',
      startedAt: T,
      finishedAt: T + 1500,
      predicted: 2,
      refreshedSegments: ['s'],
      report: report(trained),
    });
    expect(run).toMatchObject({
      workspaceId: 'w',
      startedAt: ISO,
      finishedAt: '2026-01-01T00:00:01.500Z',
      predicted: 2,
      refreshedSegments: ['s'],
    });
    expect(run.report.asOf).toBe(ISO);
    expect(latestReportView({ report: report(trained), startedAt: T, finishedAt: T })).toMatchObject({ startedAt: ISO, finishedAt: ISO });
  });

  it("answers a profile's predictions with computedAt in ISO 8601 and only the documented fields", () => {
    const features = { recency: 1, frequency: 2, monetary: 30, tenure: 40, trend: 0 };
    const view = segmentPredictionView({
      workspaceId: 'w',
      profileId: 'p',
      predicted_rfm: '545',
      predicted_rfm_tier: 'champions',
      predicted_churn_risk: 0.1,
      predicted_cluster: 0,
      features,
      computedAt: T,
      somethingStored: true,
    });
    expect(view).toEqual({
      workspaceId: 'w',
      profileId: 'p',
      predicted_rfm: '545',
      predicted_rfm_tier: 'champions',
      predicted_churn_risk: 0.1,
      predicted_cluster: 0,
      features,
      computedAt: ISO,
    });
  });
});
