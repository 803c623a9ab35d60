import fc from 'fast-check';
import { auc, brierScore, expectedCalibrationError, reliabilityTable } from './evaluation';

/** Scores with both classes present. */
const scored = fc
  .array(fc.record({ s: fc.double({ min: -100, max: 100, noNaN: true }), y: fc.boolean() }), { minLength: 2, maxLength: 200 })
  .filter((xs) => xs.some((x) => x.y) && xs.some((x) => !x.y));

describe('AUC', () => {
  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), (pos, neg) => {
        const labels = [...Array<boolean>(neg).fill(false), ...Array<boolean>(pos).fill(true)];
        const ranks = labels.map((_, i) => i);
        return (
          auc(ranks, labels) === 1 &&
          auc(
            ranks.map((r) => -r),
            labels,
          ) === 0
        );
      }),
    );
  });

  it('lies in [0, 1], is 0.5 for constant scores, and complements under reversal', () => {
    fc.assert(
      fc.property(scored, (xs) => {
        const s = xs.map((x) => x.s);
        const y = xs.map((x) => x.y);
        const a = auc(s, y);
        return (
          a >= 0 &&
          a <= 1 &&
          auc(
            s.map(() => 1),
            y,
          ) === 0.5 &&
          Math.abs(
            a +
              auc(
                s.map((v) => -v),
                y,
              ) -
              1,
          ) < 1e-9
        );
      }),
    );
  });

  it('is NaN when a class is missing', () => {
    expect(auc([0.1, 0.2], [true, true])).toBeNaN();
  });
});

describe('calibration', () => {
  it('Brier is 0 for certain right answers and 1 for certain wrong ones', () => {
    expect(brierScore([1, 0], [true, false])).toBe(0);
    expect(brierScore([0, 1], [true, false])).toBe(1);
    expect(brierScore([0.5, 0.5], [true, false])).toBe(0.25);
  });

  it('the reliability table accounts for every prediction in its bin', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ p: fc.double({ min: 0, max: 1, noNaN: true }), y: fc.boolean() }), { maxLength: 200 }), (xs) => {
        const table = reliabilityTable(
          xs.map((x) => x.p),
          xs.map((x) => x.y),
        );
        return (
          table.length === 10 &&
          table.reduce((n, b) => n + b.count, 0) === xs.length &&
          table.every((b) => b.meanPredicted === null || (b.meanPredicted >= b.from - 1e-12 && b.meanPredicted <= b.to + 1e-12))
        );
      }),
    );
  });

  it('a calibrated forecaster has a small calibration error', () => {
    const p = Array.from({ length: 1000 }, (_, i) => (i % 10) / 10 + 0.05);
    // Outcomes exactly at the predicted rate within each bin.
    const y = p.map((v, i) => Math.floor(i / 10) % 10 < v * 10);
    expect(expectedCalibrationError(reliabilityTable(p, y))).toBeLessThan(0.06);
  });
});
