import { seededRandom } from './random';

export interface KMeansResult {
  labels: number[];
  centroids: number[][];
  /** Sum of squared distances of points to their centroid. */
  inertia: number;
}

const squaredDistance = (a: readonly number[], b: readonly number[]): number => {
  let d = 0;
  for (let j = 0; j < a.length; j++) {
    const x = (a[j] as number) - (b[j] as number);
    d += x * x;
  }
  return d;
};

/** Index of the nearest centroid (the first on a tie) and its squared distance. */
export function nearest(point: readonly number[], centroids: readonly (readonly number[])[]): { index: number; distance: number } {
  let index = 0;
  let distance = Infinity;
  centroids.forEach((c, i) => {
    const d = squaredDistance(point, c);
    if (d < distance) {
      distance = d;
      index = i;
    }
  });
  return { index, distance };
}

/** k-means++ seeding: each next centre drawn with probability proportional to its squared distance, so duplicates are never picked twice. */
function seedCentroids(points: readonly (readonly number[])[], k: number, random: () => number): number[][] {
  const centroids = [[...(points[Math.floor(random() * points.length)] as number[])]];
  const distances = points.map((p) => squaredDistance(p, centroids[0] as number[]));
  while (centroids.length < k) {
    const total = distances.reduce((s, d) => s + d, 0);
    if (total === 0) break; // fewer distinct points than k
    let target = random() * total;
    let chosen = distances.length - 1;
    for (let i = 0; i < distances.length; i++) {
      target -= distances[i] as number;
      if (target < 0) {
        chosen = i;
        break;
      }
    }
    const c = [...(points[chosen] as number[])];
    centroids.push(c);
    points.forEach((p, i) => (distances[i] = Math.min(distances[i] as number, squaredDistance(p, c))));
  }
  return centroids;
}

function lloyd(points: readonly (readonly number[])[], initial: number[][], maxIterations: number): KMeansResult {
  const k = initial.length;
  const width = points[0]?.length ?? 0;
  let centroids = initial;
  let labels = new Array<number>(points.length).fill(-1);
  for (let it = 0; it < maxIterations; it++) {
    let moved = false;
    const next = points.map((p, i) => {
      const { index } = nearest(p, centroids);
      if (index !== labels[i]) moved = true;
      return index;
    });
    labels = next;
    if (!moved && it > 0) break;
    const sums = Array.from({ length: k }, () => new Array<number>(width).fill(0));
    const counts = new Array<number>(k).fill(0);
    points.forEach((p, i) => {
      const l = labels[i] as number;
      counts[l] = (counts[l] as number) + 1;
      p.forEach((x, j) => ((sums[l] as number[])[j] = ((sums[l] as number[])[j] as number) + x));
    });
    centroids = sums.map((s, c) => (counts[c] ? s.map((x) => x / (counts[c] as number)) : (centroids[c] as number[])));
    // An emptied cluster takes over the point farthest from its centroid, so every label stays in use.
    for (let c = 0; c < k; c++) {
      if (counts[c]) continue;
      let far = 0;
      let farDistance = -1;
      points.forEach((p, i) => {
        const d = squaredDistance(p, centroids[labels[i] as number] as number[]);
        if (d > farDistance && (counts[labels[i] as number] as number) > 1) {
          farDistance = d;
          far = i;
        }
      });
      counts[labels[far] as number] = (counts[labels[far] as number] as number) - 1;
      counts[c] = 1;
      labels[far] = c;
      centroids[c] = [...(points[far] as number[])];
      moved = true;
    }
  }
  const inertia = points.reduce((s, p, i) => s + squaredDistance(p, centroids[labels[i] as number] as number[]), 0);
  return { labels, centroids, inertia };
}

/**
 * k-means (Lloyd) with k-means++ seeding, best of `restarts` seeded runs by inertia. Hand-written
 * rather than simple-statistics' kMeansCluster, whose uniform seeding picks duplicate points as
 * centres on tied data (common for order counts) and then throws on the empty cluster.
 * Requires at least k distinct points for k non-empty clusters.
 */
export function kMeans(points: readonly (readonly number[])[], k: number, seed = 1, restarts = 4, maxIterations = 100): KMeansResult {
  if (k < 1 || points.length < k) throw new Error(`k-means needs at least k=${k} points, got ${points.length}`);
  let best: KMeansResult | null = null;
  for (let r = 0; r < restarts; r++) {
    const random = seededRandom(seed * 7919 + r);
    const initial = seedCentroids(points, k, random);
    if (initial.length < k) throw new Error(`k-means needs at least k=${k} distinct points`);
    const result = lloyd(points, initial, maxIterations);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best as KMeansResult;
}
