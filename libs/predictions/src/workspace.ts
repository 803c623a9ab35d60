import { trainChurnModel, churnProbability, type ChurnEvaluation, type ChurnModel, type ChurnOptions } from './churn';
import { clusterCustomers, type ClusterOptions, type ClusterSummary } from './clusters';
import { featuresAt, type CustomerFeatures, type CustomerHistory, type FeatureName } from './history';
import { rfmScores, RFM_TIERS, type RfmTier } from './rfm';

export interface WorkspacePredictionOptions {
  churn?: ChurnOptions;
  clusters?: ClusterOptions;
}

/** The predictions of one customer, named as the traits segments read. */
export interface ProfilePrediction {
  profileId: string;
  predicted_rfm: string;
  predicted_rfm_tier: RfmTier;
  /** Null when the workspace has too little history to train the churn model. */
  predicted_churn_risk: number | null;
  /** Null when the customers could not be clustered (fewer than two distinct behaviours). */
  predicted_cluster: number | null;
  features: CustomerFeatures;
}

export interface PredictionReport {
  asOf: number;
  profiles: number;
  /** Profiles with at least one order before asOf (the population of every prediction). */
  customers: number;
  rfmTiers: Record<RfmTier, number>;
  churn:
    | { status: 'trained'; horizonDays: number; coefficients: Record<FeatureName, number>; evaluation: ChurnEvaluation }
    | { status: 'insufficient_history'; reason: string; examples: number };
  clusters:
    | { status: 'clustered'; k: number; silhouetteByK: Record<number, number>; summaries: ClusterSummary[] }
    | { status: 'too_few_customers' };
}

export interface WorkspacePredictions {
  predictions: ProfilePrediction[];
  report: PredictionReport;
}

/**
 * Every prediction of one workspace as of `asOf`: RFM quintiles over its customers, a churn model
 * trained on its own past (features at asOf minus the horizon, labelled by what followed) and
 * applied to today's features, and behavioural clusters. Deterministic for given input and seeds.
 */
export function predictWorkspace(
  histories: readonly CustomerHistory[],
  asOf: number,
  options: WorkspacePredictionOptions = {},
): WorkspacePredictions {
  const sorted = [...histories].sort((a, b) => (a.profileId < b.profileId ? -1 : a.profileId > b.profileId ? 1 : 0));
  const customers: { profileId: string; features: CustomerFeatures }[] = [];
  for (const h of sorted) {
    const features = featuresAt(h, asOf);
    if (features) customers.push({ profileId: h.profileId, features });
  }
  const rfm = rfmScores(customers.map((c) => c.features));
  const training = trainChurnModel(sorted, asOf, options.churn);
  const model: ChurnModel | null = training.ok ? training.model : null;
  const clusters =
    customers.length >= 2
      ? clusterCustomers(
          customers.map((c) => c.features),
          options.clusters,
        )
      : null;
  const rfmTiers = Object.fromEntries(RFM_TIERS.map((t) => [t, 0])) as Record<RfmTier, number>;
  const predictions = customers.map((c, i): ProfilePrediction => {
    const score = rfm[i] as (typeof rfm)[number];
    rfmTiers[score.tier]++;
    return {
      profileId: c.profileId,
      predicted_rfm: score.code,
      predicted_rfm_tier: score.tier,
      predicted_churn_risk: model ? churnProbability(model, c.features) : null,
      predicted_cluster: clusters ? (clusters.labels[i] as number) : null,
      features: c.features,
    };
  });
  return {
    predictions,
    report: {
      asOf,
      profiles: histories.length,
      customers: customers.length,
      rfmTiers,
      churn: training.ok
        ? {
            status: 'trained',
            horizonDays: training.model.horizonDays,
            coefficients: training.model.coefficients,
            evaluation: training.evaluation,
          }
        : { status: 'insufficient_history', reason: training.reason, examples: training.examples },
      clusters: clusters
        ? { status: 'clustered', k: clusters.k, silhouetteByK: clusters.silhouetteByK, summaries: clusters.summaries }
        : { status: 'too_few_customers' },
    },
  };
}
