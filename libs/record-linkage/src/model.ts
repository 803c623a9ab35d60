import { compareNames, compareRecords, type ComparisonVector } from './comparators';
import { AGREE, DISAGREE, FIELDS, LEVELS, MISSING, PARTIAL, type Field, type Level } from './levels';
import { prepareRecord } from './normalize';
import type { PersonRecord, PreparedRecord } from './record';

/** Probabilities of each non-missing level of a field, among matches (m) or non-matches (u); each sums to 1. */
export interface LevelProbabilities {
  agree: number;
  partial: number;
  disagree: number;
}

export interface FieldParameters {
  m: LevelProbabilities;
  u: LevelProbabilities;
}

export interface MatchingConfig {
  fields: Record<Field, FieldParameters>;
  /** Score (bits: log2 of the likelihood ratio) at or above which two records are merged automatically. */
  autoMergeThreshold: number;
  /** Score at or above which (and below auto-merge) a pair goes to the review queue. */
  reviewThreshold: number;
  /**
   * Fields whose disagreement rules out an automatic merge (the pair goes to review at most): relatives share
   * last name, address and phone, and conditional independence adds those up as if they were independent
   * evidence. A different first name (twins, siblings) or birth date (parent and junior) is a different person.
   */
  vetoOnDisagree: Field[];
  /**
   * An automatic merge needs at least one of these fields on both sides: what a household shares (last name,
   * address, phone) says nothing about which of its members a record is.
   */
  requireAnyOf: Field[];
  /**
   * An automatic merge needs at least one of these fields to agree (fully or partly): a name and a postal
   * code alone are shared by strangers with common names in a city, which random pairs of a generated set
   * hardly show, so such a pair goes to review.
   */
  requireAgreementOn: Field[];
}

/**
 * Defaults: m by EM and u from random pairs (estimateWeights) on the generated set `--records 20000 --seed 1`,
 * rounded. Thresholds chosen on that set and checked on other seeds (README). A workspace may configure its own
 * or estimate them from its data.
 */
export const DEFAULT_MATCHING_CONFIG: MatchingConfig = {
  fields: {
    first: { m: { agree: 0.67, partial: 0.26, disagree: 0.07 }, u: { agree: 0.0094, partial: 0.0137, disagree: 0.9769 } },
    last: { m: { agree: 0.85, partial: 0.125, disagree: 0.025 }, u: { agree: 0.0144, partial: 0.0036, disagree: 0.982 } },
    birthday: { m: { agree: 0.9, partial: 0.05, disagree: 0.05 }, u: { agree: 0.0001, partial: 0.0014, disagree: 0.9985 } },
    street: { m: { agree: 0.875, partial: 0.0115, disagree: 0.1135 }, u: { agree: 0.00008, partial: 0.00007, disagree: 0.99985 } },
    postalCode: { m: { agree: 0.84, partial: 0.07, disagree: 0.09 }, u: { agree: 0.0011, partial: 0.0069, disagree: 0.992 } },
    phone: { m: { agree: 0.9, partial: 0.0001, disagree: 0.0999 }, u: { agree: 0.00008, partial: 0.0001, disagree: 0.99982 } },
    email: { m: { agree: 0.79, partial: 0.02, disagree: 0.19 }, u: { agree: 0.00008, partial: 0.00005, disagree: 0.99987 } },
  },
  autoMergeThreshold: 18,
  reviewThreshold: 8,
  vetoOnDisagree: ['first', 'birthday'],
  requireAnyOf: ['first', 'birthday'],
  requireAgreementOn: ['birthday', 'street', 'phone', 'email'],
};

/** log2(m/u) per level code (index = code; missing is 0). */
export type WeightTable = Record<Field, Float64Array>;

/** Probabilities are floored so that a level never seen in estimation cannot make a weight infinite. */
const FLOOR = 1e-6;

export function weightTable(config: MatchingConfig): WeightTable {
  const out = {} as WeightTable;
  for (const f of FIELDS) {
    const { m, u } = config.fields[f];
    const w = new Float64Array(LEVELS.length);
    for (let code = 1; code < LEVELS.length; code++) {
      const level = LEVELS[code] as Exclude<Level, 'missing'>;
      w[code] = Math.log2(Math.max(m[level], FLOOR) / Math.max(u[level], FLOOR));
    }
    // Keep the levels ordered (disagree <= partial <= agree) even when partial was barely observed.
    w[PARTIAL] = Math.min(Math.max(w[PARTIAL], w[DISAGREE]), Math.max(w[AGREE], w[DISAGREE]));
    out[f] = w;
  }
  return out;
}

export type Decision = 'merge' | 'review' | 'none';

export interface Contribution {
  field: Field;
  level: Level;
  /** Bits this field adds to the score (negative: evidence against). */
  weight: number;
}

export interface MatchScore {
  score: number;
  decision: Decision;
  /** Per-field contributions, for explanations (fields missing on either side are left out). */
  contributions: Contribution[];
  /** The names matched in swapped order (first of one record is the last of the other). */
  swappedNames: boolean;
}

export function scoreVector(v: ComparisonVector, weights: WeightTable): number {
  let s = 0;
  for (let i = 0; i < FIELDS.length; i++) s += weights[FIELDS[i]][v[i]];
  return s;
}

export function decide(score: number, v: ComparisonVector, config: MatchingConfig): Decision {
  if (score >= config.autoMergeThreshold) {
    for (const f of config.vetoOnDisagree) if (v[FIELDS.indexOf(f)] === DISAGREE) return 'review';
    if (config.requireAnyOf.length && config.requireAnyOf.every((f) => v[FIELDS.indexOf(f)] === MISSING)) return 'review';
    const agrees = (f: Field): boolean => v[FIELDS.indexOf(f)] === AGREE || v[FIELDS.indexOf(f)] === PARTIAL;
    if (config.requireAgreementOn.length && !config.requireAgreementOn.some(agrees)) return 'review';
    return 'merge';
  }
  return score >= config.reviewThreshold ? 'review' : 'none';
}

/**
 * A matcher bound to one configuration: what a resolver keeps per workspace. Records may be passed raw or
 * already prepared (prepare once when comparing one record with many candidates).
 */
export class RecordMatcher {
  readonly weights: WeightTable;

  constructor(readonly config: MatchingConfig = DEFAULT_MATCHING_CONFIG) {
    this.weights = weightTable(config);
  }

  prepare(r: PersonRecord): PreparedRecord {
    return prepareRecord(r);
  }

  compare(a: PreparedRecord, b: PreparedRecord): ComparisonVector {
    return compareRecords(a, b);
  }

  score(a: PreparedRecord, b: PreparedRecord): MatchScore {
    const v = compareRecords(a, b);
    const score = scoreVector(v, this.weights);
    const contributions: Contribution[] = [];
    for (let i = 0; i < FIELDS.length; i++) {
      if (v[i]) contributions.push({ field: FIELDS[i], level: LEVELS[v[i]], weight: round(this.weights[FIELDS[i]][v[i]]) });
    }
    const swappedNames = v[0] === PARTIAL && v[1] === PARTIAL && compareNames(a, b).swapped;
    return { score: round(score), decision: decide(score, v, this.config), contributions, swappedNames };
  }

  /**
   * Scores a record against candidate profiles (found through blocking keys) and returns them best first,
   * leaving out those below the review threshold. Ties are broken by id so that the outcome is deterministic.
   */
  rank<T extends { id: string; record: PreparedRecord }>(
    record: PreparedRecord,
    candidates: readonly T[],
  ): (MatchScore & { candidate: T })[] {
    return candidates
      .map((candidate) => ({ ...this.score(record, candidate.record), candidate }))
      .filter((s) => s.decision !== 'none')
      .sort((x, y) => y.score - x.score || (x.candidate.id < y.candidate.id ? -1 : x.candidate.id > y.candidate.id ? 1 : 0));
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
