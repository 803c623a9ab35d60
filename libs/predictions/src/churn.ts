import { auc, brierScore, expectedCalibrationError, reliabilityTable, type ReliabilityBin } from './evaluation';
import {
  DAY_MS,
  featuresAt,
  FEATURE_NAMES,
  orderedBetween,
  type CustomerFeatures,
  type CustomerHistory,
  type FeatureName,
} from './history';
import { predictProbability, trainLogistic, type LogisticModel, type LogisticOptions } from './logistic';
import { hashString } from './random';
import { fitStandardizer, standardizeRow, type Standardizer } from './standardize';

export interface ChurnOptions extends LogisticOptions {
  /** A customer has churned when it places no order for this many days. */
  horizonDays?: number;
  /** Share of customers held out for evaluation (chosen by a seeded hash of the profile id). */
  testShare?: number;
  seed?: number;
  /** Fewer labelled customers (or fewer than 5 of either class in a split) than this: no model. */
  minExamples?: number;
}

/**
 * The model's input: skewed counts and amounts on a log scale (one big spender should not
 * dominate a linear score), then standardized.
 */
export function churnInputs(f: CustomerFeatures): number[] {
  return [Math.log1p(f.recency), Math.log1p(f.frequency), Math.log1p(Math.max(0, f.monetary)), Math.log1p(f.tenure), f.trend];
}

export interface ChurnModel {
  horizonDays: number;
  standardizer: Standardizer;
  logistic: LogisticModel;
  /** Weight per (standardized) feature, for the report. */
  coefficients: Record<FeatureName, number>;
}

export interface ChurnEvaluation {
  /** When features were taken; the label is "no order in the horizon after it". */
  cutoff: number;
  trainSize: number;
  testSize: number;
  /** Share of churners among the labelled customers. */
  churnRate: number;
  auc: number;
  /** AUC of ranking by recency alone, on the same held-out customers. */
  baselineRecencyAuc: number;
  brier: number;
  /** Brier score of predicting the training churn rate for everyone. */
  baselineBrier: number;
  expectedCalibrationError: number;
  reliability: ReliabilityBin[];
}

export type ChurnTraining = { ok: true; model: ChurnModel; evaluation: ChurnEvaluation } | { ok: false; reason: string; examples: number };

interface Example {
  profileId: string;
  features: CustomerFeatures;
  churned: boolean;
}

/**
 * Labelled examples from the workspace's own history: features as of `cutoff` (= asOf minus the
 * horizon) of everyone who was a customer by then, labelled churned when no order followed
 * within the horizon. Only the past is used, so the label is known for every example.
 */
export function churnExamples(histories: readonly CustomerHistory[], cutoff: number, horizonDays: number): Example[] {
  const out: Example[] = [];
  for (const h of histories) {
    const features = featuresAt(h, cutoff);
    if (features) out.push({ profileId: h.profileId, features, churned: !orderedBetween(h, cutoff, cutoff + horizonDays * DAY_MS) });
  }
  return out;
}

const isTest = (profileId: string, seed: number, testShare: number): boolean => hashString(profileId, seed) / 4294967296 < testShare;

/** Trains and evaluates the churn model at `asOf`; the caller then scores everyone with `churnProbability` as of asOf. */
export function trainChurnModel(histories: readonly CustomerHistory[], asOf: number, options: ChurnOptions = {}): ChurnTraining {
  const { horizonDays = 30, testShare = 0.25, seed = 1, minExamples = 50 } = options;
  const cutoff = asOf - horizonDays * DAY_MS;
  const examples = churnExamples(histories, cutoff, horizonDays);
  if (examples.length < minExamples)
    return {
      ok: false,
      reason: `${examples.length} customers with history before the cutoff (need ${minExamples})`,
      examples: examples.length,
    };
  const train = examples.filter((e) => !isTest(e.profileId, seed, testShare));
  const test = examples.filter((e) => isTest(e.profileId, seed, testShare));
  for (const [name, split] of [
    ['training', train],
    ['test', test],
  ] as const) {
    const churners = split.filter((e) => e.churned).length;
    if (churners < 5 || split.length - churners < 5)
      return {
        ok: false,
        reason: `the ${name} split has ${churners} churners of ${split.length} (need 5 of each class)`,
        examples: examples.length,
      };
  }
  const trainRows = train.map((e) => churnInputs(e.features));
  const standardizer = fitStandardizer(trainRows);
  const trainLabels = train.map((e) => e.churned);
  const logistic = trainLogistic(
    trainRows.map((r) => standardizeRow(standardizer, r)),
    trainLabels,
    options,
  );
  const model: ChurnModel = {
    horizonDays,
    standardizer,
    logistic,
    coefficients: Object.fromEntries(FEATURE_NAMES.map((n, j) => [n, logistic.weights[j] as number])) as Record<FeatureName, number>,
  };
  const testLabels = test.map((e) => e.churned);
  const predicted = test.map((e) => churnProbability(model, e.features));
  const trainRate = trainLabels.filter(Boolean).length / trainLabels.length;
  const reliability = reliabilityTable(predicted, testLabels);
  return {
    ok: true,
    model,
    evaluation: {
      cutoff,
      trainSize: train.length,
      testSize: test.length,
      churnRate: examples.filter((e) => e.churned).length / examples.length,
      auc: auc(predicted, testLabels),
      baselineRecencyAuc: auc(
        test.map((e) => e.features.recency),
        testLabels,
      ),
      brier: brierScore(predicted, testLabels),
      baselineBrier: brierScore(
        test.map(() => trainRate),
        testLabels,
      ),
      expectedCalibrationError: expectedCalibrationError(reliability),
      reliability,
    },
  };
}

/** Probability that a customer with these features places no order within the model's horizon. */
export const churnProbability = (model: ChurnModel, features: CustomerFeatures): number =>
  predictProbability(model.logistic, standardizeRow(model.standardizer, churnInputs(features)));
