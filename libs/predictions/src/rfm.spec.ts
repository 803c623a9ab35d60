import fc from 'fast-check';
import { quintileScores, rfmScores, rfmTier, RFM_TIERS, type Quintile } from './rfm';

const values = fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), {
  minLength: 1,
  maxLength: 200,
});

describe('quintile scores', () => {
  it('lie in 1..5', () => {
    fc.assert(fc.property(values, (xs) => quintileScores(xs).every((s) => s >= 1 && s <= 5 && Number.isInteger(s))));
  });

  it('never fall as the value rises, and equal values share a score', () => {
    fc.assert(
      fc.property(values, (xs) => {
        const scores = quintileScores(xs);
        return xs.every((a, i) =>
          xs.every((b, j) => (a < b ? (scores[i] as number) <= (scores[j] as number) : a === b ? scores[i] === scores[j] : true)),
        );
      }),
    );
  });

  it('do not depend on the order of the population', () => {
    fc.assert(
      fc.property(values, fc.integer(), (xs, shift) => {
        const k = Math.abs(shift) % xs.length;
        const rotated = [...xs.slice(k), ...xs.slice(0, k)];
        const a = quintileScores(xs);
        const b = quintileScores(rotated);
        return xs.every((_, i) => a[i] === b[(i - k + xs.length) % xs.length]);
      }),
    );
  });

  it('split distinct values into fifths', () => {
    const scores = quintileScores(Array.from({ length: 100 }, (_, i) => i));
    for (let q = 1; q <= 5; q++) expect(scores.filter((s) => s === q)).toHaveLength(20);
  });

  it('put a population of ties, or of one, in the middle', () => {
    expect(quintileScores([7])).toEqual([3]);
    expect(quintileScores([2, 2, 2, 2])).toEqual([3, 3, 3, 3]);
    expect(rfmScores([{ recency: 0, frequency: 1, monetary: 10 }])[0]).toMatchObject({ code: '333', tier: 'need attention' });
  });
});

describe('RFM', () => {
  it('scores recency reversed: the most recent customer gets R=5, the oldest R=1', () => {
    const population = Array.from({ length: 50 }, (_, i) => ({ recency: i, frequency: 50 - i, monetary: i * 10 }));
    const scores = rfmScores(population);
    expect(scores[0]).toMatchObject({ r: 5, f: 5, m: 1, code: '551', tier: 'champions' });
    expect(scores[49]).toMatchObject({ r: 1, f: 1, m: 5, code: '115', tier: 'lost' });
  });

  it('names a tier for every R and F, and each tier is reachable', () => {
    const seen = new Set<string>();
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) seen.add(rfmTier(r as Quintile, f as Quintile));
    expect([...seen].sort()).toEqual([...RFM_TIERS].sort());
  });
});
