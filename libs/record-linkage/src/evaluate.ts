import { candidatePairs, type BlockingOptions } from './blocking';
import { compareRecords } from './comparators';
import { estimateWeights, PatternCounts, type EmResult } from './em';
import { DEFAULT_MATCHING_CONFIG, decide, scoreVector, weightTable, type MatchingConfig } from './model';
import { isEligible, prepareRecord } from './normalize';
import type { LabeledRecord, PreparedRecord } from './record';

export interface Evaluation {
  records: number;
  /** Records probabilistic matching applies to (name plus birthday, address or phone). */
  eligible: number;
  pairsCompared: number;
  /** Pairs of eligible records of the same person: the denominator of recall. */
  truePairs: number;
  /** True pairs that share a blocking key (the most recall blocking allows). */
  truePairsBlocked: number;
  truePositives: number;
  falsePositives: number;
  precision: number;
  recall: number;
  f1: number;
  /** Pairs sent to review, and how many of them are true matches. */
  review: { pairs: number; matches: number };
  /** Present when the weights were estimated on this set. */
  em?: Omit<EmResult, 'fields'>;
  timings: { prepareMs: number; blockingMs: number; compareMs: number; emMs: number; scoreMs: number; totalMs: number };
}

export interface EvaluateOptions extends Pick<BlockingOptions, 'maxBlockSize'> {
  /** Weights and thresholds; defaults to DEFAULT_MATCHING_CONFIG. */
  config?: MatchingConfig;
  /**
   * Estimate the weights on the set itself (labels unused) before scoring: m by EM over the compared pairs, u
   * from random pairs (estimateWeights). Thresholds stay those of config.
   */
  estimate?: boolean;
  /** Random pairs for u (default 50 per record, at most 200,000). */
  uSamples?: number;
  seed?: number;
}

/**
 * Pairwise precision, recall and F1 at the auto-merge threshold over a labeled set, with blocking (a pair is
 * predicted a match when its decision is `merge`). Labels are used only to count, never to fit.
 */
export function evaluate(labeled: readonly LabeledRecord[], options: EvaluateOptions = {}): Evaluation & { config: MatchingConfig } {
  const t0 = performance.now();
  const prepared: PreparedRecord[] = labeled.map((l) => prepareRecord(l.record));
  const eligible = prepared.map(isEligible);
  const t1 = performance.now();
  const { pairs, count } = candidatePairs(prepared, { maxBlockSize: options.maxBlockSize, include: (i) => eligible[i] });
  const t2 = performance.now();
  const vectors = new Uint8Array(count * 7);
  const patterns = new PatternCounts();
  for (let p = 0; p < count; p++) {
    const v = compareRecords(prepared[pairs[2 * p]], prepared[pairs[2 * p + 1]]);
    vectors.set(v, p * 7);
    patterns.add(v);
  }
  const t3 = performance.now();
  let config = options.config ?? DEFAULT_MATCHING_CONFIG;
  let em: Evaluation['em'];
  if (options.estimate) {
    const estimate = estimateWeights(prepared, patterns, { uSamples: options.uSamples, seed: options.seed });
    config = { ...config, fields: estimate.fields };
    em = estimate.em;
  }
  const t4 = performance.now();
  const weights = weightTable(config);
  let tp = 0;
  let fp = 0;
  let truePairsBlocked = 0;
  const review = { pairs: 0, matches: 0 };
  for (let p = 0; p < count; p++) {
    const v = vectors.subarray(p * 7, p * 7 + 7);
    const same = labeled[pairs[2 * p]].entityId === labeled[pairs[2 * p + 1]].entityId;
    if (same) truePairsBlocked++;
    const decision = decide(scoreVector(v, weights), v, config);
    if (decision === 'merge') {
      if (same) tp++;
      else fp++;
    } else if (decision === 'review') {
      review.pairs++;
      if (same) review.matches++;
    }
  }
  const perEntity = new Map<string, number>();
  labeled.forEach((l, i) => eligible[i] && perEntity.set(l.entityId, (perEntity.get(l.entityId) ?? 0) + 1));
  let truePairs = 0;
  for (const k of perEntity.values()) truePairs += (k * (k - 1)) / 2;
  const t5 = performance.now();
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = truePairs ? tp / truePairs : 1;
  return {
    records: labeled.length,
    eligible: eligible.filter(Boolean).length,
    pairsCompared: count,
    truePairs,
    truePairsBlocked,
    truePositives: tp,
    falsePositives: fp,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    review,
    em,
    config,
    timings: {
      prepareMs: t1 - t0,
      blockingMs: t2 - t1,
      compareMs: t3 - t2,
      emMs: t4 - t3,
      scoreMs: t5 - t4,
      totalMs: t5 - t0,
    },
  };
}
