import fc from 'fast-check';
import { mean, silhouette } from 'simple-statistics';
import { clusterCustomers } from './clusters';
import type { CustomerFeatures } from './history';
import { kMeans } from './kmeans';
import { normal, seededRandom } from './random';

const points = fc.array(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 2, maxLength: 2 }), { minLength: 2, maxLength: 60 });

describe('k-means', () => {
  it('uses every label 0..k-1 whenever there are k distinct points, even on heavily tied data', () => {
    fc.assert(
      fc.property(points, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1000 }), (ps, k, seed) => {
        const distinct = new Set(ps.map((p) => p.join(','))).size;
        fc.pre(k <= distinct);
        const { labels, centroids } = kMeans(ps, k, seed);
        return centroids.length === k && new Set(labels).size === k && labels.every((l) => Number.isInteger(l) && l >= 0 && l < k);
      }),
      { numRuns: 200 },
    );
  });

  it('has a silhouette in [-1, 1]', () => {
    fc.assert(
      fc.property(points, fc.integer({ min: 2, max: 5 }), (ps, k) => {
        fc.pre(k <= new Set(ps.map((p) => p.join(','))).size);
        const { labels } = kMeans(ps, k, 1);
        return silhouette(ps, labels).every((s) => s >= -1 - 1e-12 && s <= 1 + 1e-12);
      }),
      { numRuns: 100 },
    );
  });

  it('is deterministic for a seed', () => {
    const ps = Array.from({ length: 100 }, (_, i) => [Math.sin(i * 7), Math.cos(i * 3)]);
    expect(kMeans(ps, 4, 9)).toEqual(kMeans(ps, 4, 9));
  });
});

/** Customers drawn around a few behaviour types (recency days, orders, revenue, tenure days). */
function blobs(centres: CustomerFeatures[], perBlob: number, seed: number): CustomerFeatures[] {
  const random = seededRandom(seed);
  const jitter = (v: number) => Math.max(0, v * Math.exp(0.08 * normal(random)));
  return centres.flatMap((c) =>
    Array.from({ length: perBlob }, () => ({
      recency: jitter(c.recency),
      frequency: jitter(c.frequency),
      monetary: jitter(c.monetary),
      tenure: jitter(c.tenure),
      trend: 0,
    })),
  );
}

describe('behavioural clusters', () => {
  const centres: CustomerFeatures[] = [
    { recency: 3, frequency: 40, monetary: 3000, tenure: 600, trend: 0 },
    { recency: 300, frequency: 2, monetary: 60, tenure: 500, trend: 0 },
    { recency: 10, frequency: 2, monetary: 80, tenure: 20, trend: 0 },
  ];

  it('finds the number of behaviour types and describes them in original units', () => {
    const result = clusterCustomers(blobs(centres, 80, 3), { seed: 5 });
    expect(result?.k).toBe(3);
    const summaries = result?.summaries ?? [];
    expect(summaries.map((s) => s.size)).toEqual([80, 80, 80]);
    const loyal = summaries.find((s) => s.centroid.frequency > 20);
    expect(loyal?.centroid.monetary).toBeGreaterThan(2000);
    expect(loyal?.description).toContain('high frequency');
    const lapsed = summaries.find((s) => s.centroid.recency > 200);
    expect(lapsed?.description).toContain('high recency');
    const fresh = summaries.find((s) => s.centroid.tenure < 50);
    expect(fresh?.description).toContain('low tenure');
    expect(Object.keys(result?.silhouetteByK ?? {}).map(Number)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const best = Math.max(...Object.values(result?.silhouetteByK ?? {}));
    expect(result?.silhouetteByK[3]).toBe(best);
  });

  it('labels cover 0..k-1, numbered by size, and do not depend on input order', () => {
    const population = blobs(centres.slice(0, 2), 60, 4).concat(blobs([centres[2] as CustomerFeatures], 30, 5));
    const a = clusterCustomers(population, { seed: 2 });
    const reversed = clusterCustomers([...population].reverse(), { seed: 2 });
    expect(new Set(a?.labels)).toEqual(new Set(Array.from({ length: a?.k ?? 0 }, (_, i) => i)));
    expect(a?.summaries.map((s) => s.size)).toEqual([...(a?.summaries.map((s) => s.size) ?? [])].sort((x, y) => y - x));
    expect(reversed?.labels).toEqual([...(a?.labels ?? [])].reverse());
    expect(mean(a?.summaries.map((s) => s.share) ?? [])).toBeCloseTo(1 / (a?.k ?? 1), 10);
  });

  it('declines when everyone behaves identically', () => {
    const same = Array.from({ length: 10 }, () => ({ recency: 1, frequency: 1, monetary: 1, tenure: 1, trend: 0 }));
    expect(clusterCustomers(same)).toBeNull();
  });
});
