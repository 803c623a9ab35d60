import type { CustomerFeatures } from './history';

export type Quintile = 1 | 2 | 3 | 4 | 5;

/** The first index of `sorted` whose value is not below `value` (`strict`: above it). */
function bound(sorted: readonly number[], value: number, strict: boolean): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value || (strict && sorted[mid] === value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Quintile scores of every value against its own population, by mid-rank: a value's share of the
 * population below it plus half of those equal to it, in fifths. Equal values share a score (decided
 * by value alone, never by input order), the score never falls as the value rises, distinct values
 * split into fifths, and a population of ties (or of one) sits in the middle, 3: not the bottom,
 * which rated a lone customer who ordered a minute ago as "lost".
 */
export function quintileScores(values: readonly number[]): Quintile[] {
  const sorted = [...values].sort((a, b) => a - b);
  return values.map((v) => {
    const below = bound(sorted, v, false);
    const midRank = (below + (bound(sorted, v, true) - below) / 2) / sorted.length;
    return Math.min(5, Math.floor(midRank * 5) + 1) as Quintile;
  });
}

export const RFM_TIERS = [
  'champions',
  'loyal',
  'potential loyalists',
  'new customers',
  'promising',
  'need attention',
  'about to sleep',
  'cannot lose them',
  'at risk',
  'hibernating',
  'lost',
] as const;
export type RfmTier = (typeof RFM_TIERS)[number];

/** The named tier of an R and F score (the usual RFM grid; M refines the code but not the tier). */
export function rfmTier(r: Quintile, f: Quintile): RfmTier {
  if (r >= 4 && f >= 4) return 'champions';
  if (r === 3 && f >= 4) return 'loyal';
  if (r >= 4 && f >= 2) return 'potential loyalists';
  if (r === 5 && f === 1) return 'new customers';
  if (r === 4 && f === 1) return 'promising';
  if (r === 3 && f === 3) return 'need attention';
  if (r === 3) return 'about to sleep';
  if (r === 1 && f >= 4) return 'cannot lose them';
  if (f >= 3) return 'at risk';
  if (r === 2) return 'hibernating';
  return 'lost';
}

export interface RfmScore {
  r: Quintile;
  f: Quintile;
  m: Quintile;
  /** e.g. "545". */
  code: string;
  tier: RfmTier;
}

/**
 * RFM scores of a population: recency scored reversed (the most recent fifth scores 5),
 * frequency and monetary value as they are.
 */
export function rfmScores(population: readonly Pick<CustomerFeatures, 'recency' | 'frequency' | 'monetary'>[]): RfmScore[] {
  const r = quintileScores(population.map((c) => -c.recency));
  const f = quintileScores(population.map((c) => c.frequency));
  const m = quintileScores(population.map((c) => c.monetary));
  return population.map((_, i) => {
    const score = { r: r[i] as Quintile, f: f[i] as Quintile, m: m[i] as Quintile };
    return { ...score, code: `${score.r}${score.f}${score.m}`, tier: rfmTier(score.r, score.f) };
  });
}
