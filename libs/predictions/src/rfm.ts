import { quantileSorted } from 'simple-statistics';
import type { CustomerFeatures } from './history';

export type Quintile = 1 | 2 | 3 | 4 | 5;

/**
 * Quintile boundaries of a population (the 20th, 40th, 60th and 80th percentiles). A value scores
 * 1 + the number of boundaries strictly below it, so equal values always share a score (ties are
 * decided by value alone, never by input order) and the score never falls as the value rises.
 */
export function quintileBoundaries(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const sorted = [...values].sort((a, b) => a - b);
  return [0.2, 0.4, 0.6, 0.8].map((p) => quantileSorted(sorted, p));
}

export function quintileScore(boundaries: readonly number[], value: number): Quintile {
  let score = 1;
  for (const b of boundaries) if (value > b) score++;
  return score as Quintile;
}

/** Quintile scores of every value against its own population. */
export function quintileScores(values: readonly number[]): Quintile[] {
  const boundaries = quintileBoundaries(values);
  return values.map((v) => quintileScore(boundaries, v));
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
