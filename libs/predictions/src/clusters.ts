import { mean, silhouette } from 'simple-statistics';
import type { CustomerFeatures } from './history';
import { kMeans, nearest } from './kmeans';
import { seededSample } from './random';
import { fitStandardizer, standardizeRow } from './standardize';

export const CLUSTER_FEATURES = ['recency', 'frequency', 'monetary', 'tenure'] as const;
export type ClusterFeature = (typeof CLUSTER_FEATURES)[number];

export interface ClusterOptions {
  minK?: number;
  maxK?: number;
  seed?: number;
  /** k-means runs on at most this many customers (seeded sample); everyone is then assigned to the nearest centre. */
  fitSample?: number;
  /** Silhouette (quadratic in size) is measured on at most this many of them. */
  silhouetteSample?: number;
}

export interface ClusterSummary {
  cluster: number;
  size: number;
  share: number;
  /** Mean of each feature over the members, in original units (days, orders, revenue). */
  centroid: Record<ClusterFeature, number>;
  /** Standardized distance of the cluster's centre from the population mean, per feature. */
  zScores: Record<ClusterFeature, number>;
  /** The features that set it apart, strongest first, e.g. "high frequency, low recency". */
  description: string;
}

export interface ClusterResult {
  k: number;
  /** Mean silhouette of each k tried (on the silhouette sample). */
  silhouetteByK: Record<number, number>;
  labels: number[];
  summaries: ClusterSummary[];
}

/** Counts, amounts and durations are skewed: clustered on a log scale, then standardized. */
const clusterInputs = (f: CustomerFeatures): number[] => CLUSTER_FEATURES.map((name) => Math.log1p(Math.max(0, f[name])));

/** Distinguishing features need to lie this many standard deviations from the mean. */
const NOTABLE_Z = 0.5;

function describe(z: Record<ClusterFeature, number>): string {
  const notable = CLUSTER_FEATURES.filter((n) => Math.abs(z[n]) >= NOTABLE_Z).sort((a, b) => Math.abs(z[b]) - Math.abs(z[a]));
  return notable.length === 0 ? 'close to average' : notable.map((n) => `${z[n] > 0 ? 'high' : 'low'} ${n}`).join(', ');
}

/**
 * Behavioural clusters: k-means on standardized (log) recency, frequency, monetary value and
 * tenure, k from minK..maxK chosen by the highest mean silhouette (the smaller k on a tie).
 * Clusters are numbered by size, largest first, so reruns on the same data agree. Null when
 * there are too few distinct customers to form two clusters.
 */
export function clusterCustomers(population: readonly CustomerFeatures[], options: ClusterOptions = {}): ClusterResult | null {
  const { minK = 2, maxK = 8, seed = 1, fitSample = 3000, silhouetteSample = 800 } = options;
  const raw = population.map(clusterInputs);
  const standardizer = fitStandardizer(raw);
  const points = raw.map((r) => standardizeRow(standardizer, r));
  const fitPoints = seededSample(points, fitSample, seed);
  const distinct = new Set(fitPoints.map((p) => p.join(','))).size;
  const silhouettePoints = seededSample(fitPoints, silhouetteSample, seed + 1);
  const silhouetteByK: Record<number, number> = {};
  let best: { k: number; score: number; centroids: number[][] } | null = null;
  for (let k = minK; k <= Math.min(maxK, distinct); k++) {
    const { centroids } = kMeans(fitPoints, k, seed);
    const labels = silhouettePoints.map((p) => nearest(p, centroids).index);
    // Silhouette needs every label to be present among the sampled points.
    if (new Set(labels).size < k) continue;
    const score = mean(silhouette(silhouettePoints, labels));
    silhouetteByK[k] = score;
    if (!best || score > best.score + 1e-12) best = { k, score, centroids };
  }
  if (!best) return null;
  const assigned = points.map((p) => nearest(p, (best as { centroids: number[][] }).centroids).index);
  // Renumber by size (largest first), then by centre, for labels that do not depend on seeding order.
  const sizes = best.centroids.map((c, i) => ({ i, size: assigned.filter((l) => l === i).length, key: c.join(',') }));
  sizes.sort((a, b) => b.size - a.size || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const renumber = new Map(sizes.map((s, rank) => [s.i, rank]));
  const labels = assigned.map((l) => renumber.get(l) as number);
  const summaries = sizes
    .filter((s) => s.size > 0)
    .map((s): ClusterSummary => {
      const cluster = renumber.get(s.i) as number;
      const members = population.filter((_, i) => labels[i] === cluster);
      const memberPoints = points.filter((_, i) => labels[i] === cluster);
      const centroid = Object.fromEntries(CLUSTER_FEATURES.map((n) => [n, mean(members.map((m) => m[n]))])) as Record<
        ClusterFeature,
        number
      >;
      const zScores = Object.fromEntries(CLUSTER_FEATURES.map((n, j) => [n, mean(memberPoints.map((p) => p[j] as number))])) as Record<
        ClusterFeature,
        number
      >;
      return { cluster, size: s.size, share: s.size / population.length, centroid, zScores, description: describe(zScores) };
    });
  return { k: best.k, silhouetteByK, labels, summaries };
}
