import type { ChurnEvaluation, CustomerFeatures, PredictionReport } from '@cdp/predictions';
import type { PredictedTraits } from './order-histories';
import type { PredictionRun } from './predictions.service';
import type { SegmentPredictionDocument } from './segment-predictions.repository';

// What /v1/predictions answers. @cdp/predictions and the store keep times as epoch ms (arithmetic,
// compact); the API answers ISO 8601 like every other API of the platform.

const iso = (ms: number): string => new Date(ms).toISOString();

type TrainedChurn = Extract<PredictionReport['churn'], { status: 'trained' }>;
type UntrainedChurn = Extract<PredictionReport['churn'], { status: 'insufficient_history' }>;

export type ChurnEvaluationView = Omit<ChurnEvaluation, 'cutoff'> & { cutoff: string };
export type TrainedChurnView = Omit<TrainedChurn, 'evaluation'> & { evaluation: ChurnEvaluationView };
export type PredictionReportView = Omit<PredictionReport, 'asOf' | 'churn'> & { asOf: string; churn: TrainedChurnView | UntrainedChurn };

export type PredictionRunView = Omit<PredictionRun, 'startedAt' | 'finishedAt' | 'report'> & {
  startedAt: string;
  finishedAt: string;
  report: PredictionReportView;
};

export interface LatestReportView {
  report: PredictionReportView;
  startedAt: string;
  finishedAt: string;
}

export interface SegmentPredictionView extends PredictedTraits {
  workspaceId: string;
  profileId: string;
  features: CustomerFeatures;
  computedAt: string;
}

export function reportView(report: PredictionReport): PredictionReportView {
  const { churn } = report;
  return {
    ...report,
    asOf: iso(report.asOf),
    churn: churn.status === 'trained' ? { ...churn, evaluation: { ...churn.evaluation, cutoff: iso(churn.evaluation.cutoff) } } : churn,
  };
}

export const runView = (run: PredictionRun): PredictionRunView => ({
  ...run,
  startedAt: iso(run.startedAt),
  finishedAt: iso(run.finishedAt),
  report: reportView(run.report),
});

export const latestReportView = (latest: { report: PredictionReport; startedAt: number; finishedAt: number }): LatestReportView => ({
  report: reportView(latest.report),
  startedAt: iso(latest.startedAt),
  finishedAt: iso(latest.finishedAt),
});

/** Field by field: only what the API documents, whatever else the stored document holds. */
export const segmentPredictionView = (d: SegmentPredictionDocument): SegmentPredictionView => ({
  workspaceId: d.workspaceId,
  profileId: d.profileId,
  predicted_rfm: d.predicted_rfm,
  predicted_rfm_tier: d.predicted_rfm_tier,
  predicted_churn_risk: d.predicted_churn_risk,
  predicted_cluster: d.predicted_cluster,
  features: d.features,
  computedAt: iso(d.computedAt),
});
