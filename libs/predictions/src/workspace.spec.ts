import { DAY_MS } from './history';
import { syntheticCustomers } from './synthetic';
import { predictWorkspace } from './workspace';

const END = Date.UTC(2026, 0, 1);

describe('workspace predictions', () => {
  const histories = syntheticCustomers({ customers: 600, seed: 7, end: END }).map((c) => c.history);
  const withProspect = [...histories, { profileId: 'prospect', firstSeen: END - DAY_MS, orders: [] }];
  const { predictions, report } = predictWorkspace(withProspect, END, { clusters: { fitSample: 400, silhouetteSample: 300 } });

  it('predicts for every customer and only for customers', () => {
    expect(report.profiles).toBe(601);
    expect(predictions).toHaveLength(report.customers);
    expect(predictions.find((p) => p.profileId === 'prospect')).toBeUndefined();
    expect(Object.values(report.rfmTiers).reduce((a, b) => a + b, 0)).toBe(report.customers);
  });

  it('gives traits segments can compare', () => {
    expect(report.churn.status).toBe('trained');
    expect(report.clusters.status).toBe('clustered');
    const k = report.clusters.status === 'clustered' ? report.clusters.k : 0;
    for (const p of predictions) {
      expect(p.predicted_rfm).toMatch(/^[1-5]{3}$/);
      expect(p.predicted_churn_risk).toBeGreaterThanOrEqual(0);
      expect(p.predicted_churn_risk).toBeLessThanOrEqual(1);
      expect(p.predicted_cluster).toBeGreaterThanOrEqual(0);
      expect(p.predicted_cluster).toBeLessThan(k);
    }
    // Risk follows silence: the recent fifth is at lower mean risk than the lapsed fifth.
    const risk = (r: string) => {
      const xs = predictions.filter((p) => p.predicted_rfm[0] === r).map((p) => p.predicted_churn_risk as number);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(risk('5')).toBeLessThan(risk('1'));
  });

  it('does not depend on the order profiles are read in', () => {
    const again = predictWorkspace([...withProspect].reverse(), END, { clusters: { fitSample: 400, silhouetteSample: 300 } });
    expect(again.predictions).toEqual(predictions);
  });
});
