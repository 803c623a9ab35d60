import { compareRecords, type ComparisonVector } from './comparators';
import { FIELDS, LEVELS, type Field } from './levels';
import { DEFAULT_MATCHING_CONFIG, type FieldParameters, type LevelProbabilities, type MatchingConfig } from './model';
import type { PreparedRecord } from './record';
import { mulberry32 } from './random';

const K = LEVELS.length;
const F = FIELDS.length;

/** Comparison vectors counted by pattern: EM then costs per distinct pattern (at most 4^7), not per pair. */
export class PatternCounts {
  readonly counts = new Map<number, number>();
  total = 0;

  add(v: ComparisonVector, times = 1): void {
    let p = 0;
    for (let i = F - 1; i >= 0; i--) p = p * K + v[i];
    this.counts.set(p, (this.counts.get(p) ?? 0) + times);
    this.total += times;
  }

  static decode(pattern: number): Uint8Array {
    const v = new Uint8Array(F);
    for (let i = 0; i < F; i++) {
      v[i] = pattern % K;
      pattern = Math.floor(pattern / K);
    }
    return v;
  }
}

export interface EmOptions {
  /** Starting point (m high on agree, u low): it also fixes which class is "match". Defaults to the defaults. */
  initial?: MatchingConfig['fields'];
  initialMatchRate?: number;
  maxIterations?: number;
  /** Stop when no probability moves by more than this. */
  tolerance?: number;
}

export interface EmResult {
  fields: MatchingConfig['fields'];
  /** Estimated share of matches among the compared pairs. */
  matchRate: number;
  iterations: number;
  converged: boolean;
  logLikelihood: number;
}

type Table = Float64Array[]; // [field][level code], codes 1..3 used

function toTable(fields: MatchingConfig['fields'], key: 'm' | 'u'): Table {
  return FIELDS.map((f) => {
    const p = fields[f][key];
    return Float64Array.from([0, p.disagree, p.partial, p.agree]);
  });
}

function toProbabilities(row: Float64Array): LevelProbabilities {
  return { disagree: row[1], partial: row[2], agree: row[3] };
}

/**
 * Fellegi-Sunter parameters by expectation-maximization over unlabeled comparison vectors, assuming the fields
 * independent given the match status (two-class latent mixture). Missing levels carry no information and are
 * skipped in both steps. A small pseudo-count keeps every probability positive.
 */
export function estimateParameters(patterns: PatternCounts, options: EmOptions = {}): EmResult {
  const init = options.initial ?? DEFAULT_MATCHING_CONFIG.fields;
  const m = toTable(init, 'm');
  const u = toTable(init, 'u');
  let lambda = options.initialMatchRate ?? 0.1;
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-6;
  const entries = [...patterns.counts.entries()].map(([p, c]) => ({ v: PatternCounts.decode(p), c }));
  const pseudo = 0.5;
  let iterations = 0;
  let converged = false;
  let logLikelihood = -Infinity;
  while (iterations < maxIterations && !converged) {
    iterations++;
    const mAcc = FIELDS.map(() => new Float64Array(K));
    const uAcc = FIELDS.map(() => new Float64Array(K));
    let matchMass = 0;
    let ll = 0;
    for (const { v, c } of entries) {
      let pm = lambda;
      let pu = 1 - lambda;
      for (let f = 0; f < F; f++) {
        if (!v[f]) continue;
        pm *= m[f][v[f]];
        pu *= u[f][v[f]];
      }
      const g = pm / (pm + pu);
      ll += c * Math.log(pm + pu);
      matchMass += c * g;
      for (let f = 0; f < F; f++) {
        if (!v[f]) continue;
        mAcc[f][v[f]] += c * g;
        uAcc[f][v[f]] += c * (1 - g);
      }
    }
    let delta = Math.abs(matchMass / patterns.total - lambda);
    lambda = matchMass / patterns.total;
    const update = (table: Table, acc: Float64Array[]): void => {
      for (let f = 0; f < F; f++) {
        const sum = acc[f][1] + acc[f][2] + acc[f][3] + 3 * pseudo;
        for (let l = 1; l < K; l++) {
          const next = (acc[f][l] + pseudo) / sum;
          delta = Math.max(delta, Math.abs(next - table[f][l]));
          table[f][l] = next;
        }
      }
    };
    update(m, mAcc);
    update(u, uAcc);
    logLikelihood = ll;
    converged = delta < tolerance;
  }
  const fields = {} as Record<Field, FieldParameters>;
  FIELDS.forEach((f, i) => (fields[f] = { m: toProbabilities(m[i]), u: toProbabilities(u[i]) }));
  return { fields, matchRate: lambda, iterations, converged, logLikelihood };
}

/**
 * u probabilities from random pairs of a batch: almost all random pairs are non-matches, so their level
 * frequencies estimate u without labels (the usual way to anchor EM: u of the blocked pairs is inflated for
 * the very fields the blocks agree on, which shrinks their weights). m is copied from `start`.
 */
export function estimateU(
  records: readonly PreparedRecord[],
  samples: number,
  seed = 1,
  start: MatchingConfig['fields'] = DEFAULT_MATCHING_CONFIG.fields,
): MatchingConfig['fields'] {
  const rand = mulberry32(seed);
  const acc = FIELDS.map(() => new Float64Array(K).fill(0.5));
  for (let s = 0; s < samples && records.length > 1; s++) {
    const i = Math.floor(rand() * records.length);
    let j = Math.floor(rand() * (records.length - 1));
    if (j >= i) j++;
    const v = compareRecords(records[i], records[j]);
    for (let f = 0; f < F; f++) if (v[f]) acc[f][v[f]]++;
  }
  const fields = {} as Record<Field, FieldParameters>;
  FIELDS.forEach((f, i) => {
    const sum = acc[i][1] + acc[i][2] + acc[i][3];
    fields[f] = {
      m: start[f].m,
      u: { disagree: acc[i][1] / sum, partial: acc[i][2] / sum, agree: acc[i][3] / sum },
    };
  });
  return fields;
}

export interface WeightEstimate {
  fields: MatchingConfig['fields'];
  em: Omit<EmResult, 'fields'>;
}

/**
 * The weights a workspace would estimate from its own unlabeled data: m by EM over the compared (blocked)
 * pairs, u from random pairs. The u of EM's non-match class is left aside: blocked non-matches agree on the
 * blocking fields far more often than people at large (relatives share name and address), which would shrink
 * exactly the weights that separate strangers.
 */
export function estimateWeights(
  records: readonly PreparedRecord[],
  patterns: PatternCounts,
  /** uSamples: random pairs for u (default 50 per record, at most 200,000). */
  options: EmOptions & { uSamples?: number; seed?: number } = {},
): WeightEstimate {
  const { fields: emFields, ...em } = estimateParameters(patterns, options);
  const random = estimateU(records, options.uSamples ?? Math.min(200_000, 50 * records.length), options.seed ?? 1);
  const fields = {} as Record<Field, FieldParameters>;
  for (const f of FIELDS) fields[f] = { m: emFields[f].m, u: random[f].u };
  return { fields, em };
}
