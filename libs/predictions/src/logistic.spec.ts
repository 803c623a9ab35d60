import fc from 'fast-check';
import { auc } from './evaluation';
import { predictProbability, sigmoid, trainLogistic } from './logistic';
import { normal, seededRandom } from './random';
import { fitStandardizer, standardizeRow } from './standardize';

describe('logistic regression', () => {
  it('separates linearly separable data (AUC > 0.95 on fresh data)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 3, maxLength: 3 }).filter((w) => Math.hypot(...w) > 0.5),
        fc.integer({ min: 1, max: 1_000_000 }),
        (w, seed) => {
          const random = seededRandom(seed);
          const draw = (n: number) => Array.from({ length: n }, () => [normal(random), normal(random), normal(random)]);
          const label = (x: number[]) => x.reduce((s, v, j) => s + v * (w[j] as number), 0) > 0;
          const train = draw(300);
          const test = draw(300);
          const labels = test.map(label);
          if (!labels.some(Boolean) || labels.every(Boolean)) return true;
          const s = fitStandardizer(train);
          const model = trainLogistic(
            train.map((r) => standardizeRow(s, r)),
            train.map(label),
            { iterations: 300 },
          );
          return (
            auc(
              test.map((r) => predictProbability(model, standardizeRow(s, r))),
              labels,
            ) > 0.95
          );
        },
      ),
      { numRuns: 20 },
    );
  });

  it('recovers the intercept of a constant rate', () => {
    const rows = Array.from({ length: 400 }, () => [0]);
    const labels = rows.map((_, i) => i % 4 === 0);
    const model = trainLogistic(rows, labels, { iterations: 2000 });
    expect(sigmoid(model.intercept)).toBeCloseTo(0.25, 2);
  });

  it('is deterministic', () => {
    const rows = Array.from({ length: 50 }, (_, i) => [Math.sin(i), Math.cos(i)]);
    const labels = rows.map((r) => (r[0] as number) > 0.2);
    expect(trainLogistic(rows, labels)).toEqual(trainLogistic(rows, labels));
  });

  it('sigmoid stays finite at the extremes', () => {
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
  });
});
