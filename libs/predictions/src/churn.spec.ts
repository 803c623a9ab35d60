import { churnExamples, trainChurnModel } from './churn';
import { DAY_MS, featuresAt, type CustomerHistory } from './history';
import { syntheticCustomers } from './synthetic';

const END = Date.UTC(2026, 0, 1);

describe('features', () => {
  const history: CustomerHistory = {
    profileId: 'p1',
    firstSeen: END - 200 * DAY_MS,
    orders: [
      { at: END - 100 * DAY_MS, revenue: 10 },
      { at: END - 40 * DAY_MS, revenue: 20 },
      { at: END - 10 * DAY_MS, revenue: 30 },
      { at: END + DAY_MS, revenue: 99 },
    ],
  };

  it('see only orders before the moment they describe', () => {
    expect(featuresAt(history, END)).toEqual({
      recency: 10,
      frequency: 3,
      monetary: 60,
      tenure: 200,
      trend: Math.log1p(1) - Math.log1p(1 / 2),
    });
    expect(featuresAt(history, END - 150 * DAY_MS)).toBeNull();
  });

  it('label a customer churned when no order follows the cutoff within the horizon', () => {
    const [late] = churnExamples([history], END - 20 * DAY_MS, 30);
    expect(late?.churned).toBe(false);
    const [early] = churnExamples([history], END - 39 * DAY_MS, 10);
    expect(early?.churned).toBe(true);
  });
});

describe('churn model on synthetic histories with a known churn process', () => {
  const histories = syntheticCustomers({ customers: 2000, seed: 1, end: END }).map((c) => c.history);
  const result = trainChurnModel(histories, END, { seed: 1 });

  it('beats ranking by recency alone, and the base rate in Brier score', () => {
    if (!result.ok) throw new Error(result.reason);
    const e = result.evaluation;
    expect(e.testSize).toBeGreaterThan(300);
    expect(e.auc).toBeGreaterThan(e.baselineRecencyAuc + 0.01);
    expect(e.auc).toBeGreaterThan(0.85);
    expect(e.brier).toBeLessThan(e.baselineBrier * 0.75);
    expect(e.expectedCalibrationError).toBeLessThan(0.1);
    // Longer silence raises the risk; more orders lower it.
    expect(result.model.coefficients.recency).toBeGreaterThan(0);
    expect(result.model.coefficients.frequency).toBeLessThan(0);
  });

  it('gives the same model on a rerun and on shuffled input', () => {
    const again = trainChurnModel([...histories].reverse(), END, { seed: 1 });
    if (!result.ok || !again.ok) throw new Error('not trained');
    expect(again.evaluation.auc).toBe(result.evaluation.auc);
    expect(again.model.logistic.intercept).toBeCloseTo(result.model.logistic.intercept, 9);
  });

  it('declines to train on too little history', () => {
    const few = trainChurnModel(histories.slice(0, 20), END);
    expect(few.ok).toBe(false);
  });
});
