import { ApiProperty, getSchemaPath, type ApiPropertyOptions } from '@nestjs/swagger';
import {
  CLUSTER_FEATURES,
  FEATURE_NAMES,
  RFM_TIERS,
  type ClusterSummary,
  type CustomerFeatures,
  type PredictionReport,
  type ReliabilityBin,
  type RfmTier,
} from '@cdp/predictions';
import type {
  ChurnEvaluationView,
  LatestReportView,
  PredictionReportView,
  PredictionRunView,
  SegmentPredictionView,
  TrainedChurnView,
} from './prediction-views';

// Response shapes of /v1/predictions, for the OpenAPI document. Each implements the type the
// controller returns (or a branch of it), so they cannot drift apart.

/** An object with one number per name. */
const numbersBy = (names: readonly string[], description: string): ApiPropertyOptions => ({
  type: 'object',
  properties: Object.fromEntries(names.map((n) => [n, { type: 'number' as const }])),
  required: [...names],
  additionalProperties: false,
  description,
});

type UntrainedChurn = Extract<PredictionReport['churn'], { status: 'insufficient_history' }>;
type Clustered = Extract<PredictionReport['clusters'], { status: 'clustered' }>;
type Unclustered = Extract<PredictionReport['clusters'], { status: 'too_few_customers' }>;

export class CustomerFeaturesDto implements CustomerFeatures {
  @ApiProperty({ description: 'Days since the last order.' }) recency!: number;
  @ApiProperty({ description: 'Orders so far.' }) frequency!: number;
  @ApiProperty({ description: 'Revenue so far.' }) monetary!: number;
  @ApiProperty({ description: 'Days since first seen.' }) tenure!: number;
  @ApiProperty({ description: 'Orders in the last 30 days against the rate of the 60 before (log ratio; < 0 slowing).' }) trend!: number;
}

export class ReliabilityBinDto implements ReliabilityBin {
  @ApiProperty() from!: number;
  @ApiProperty() to!: number;
  @ApiProperty() count!: number;
  @ApiProperty({ nullable: true, type: Number }) meanPredicted!: number | null;
  @ApiProperty({ nullable: true, type: Number }) observedRate!: number | null;
}

export class ChurnEvaluationDto implements ChurnEvaluationView {
  @ApiProperty({ format: 'date-time', description: 'When the features were taken; the label is "no order in the horizon after it".' })
  cutoff!: string;
  @ApiProperty() trainSize!: number;
  @ApiProperty() testSize!: number;
  @ApiProperty() churnRate!: number;
  @ApiProperty({ description: 'On the held-out customers.' }) auc!: number;
  @ApiProperty({ description: 'AUC of ranking by recency alone, on the same customers.' }) baselineRecencyAuc!: number;
  @ApiProperty() brier!: number;
  @ApiProperty({ description: 'Brier score of predicting the training churn rate for everyone.' }) baselineBrier!: number;
  @ApiProperty() expectedCalibrationError!: number;
  @ApiProperty({ type: [ReliabilityBinDto] }) reliability!: ReliabilityBinDto[];
}

export class TrainedChurnDto implements TrainedChurnView {
  @ApiProperty({ enum: ['trained'] }) status!: 'trained';
  @ApiProperty() horizonDays!: number;
  @ApiProperty(numbersBy(FEATURE_NAMES, 'Weight per standardized feature.')) coefficients!: TrainedChurnView['coefficients'];
  @ApiProperty({ type: ChurnEvaluationDto }) evaluation!: ChurnEvaluationDto;
}

export class UntrainedChurnDto implements UntrainedChurn {
  @ApiProperty({ enum: ['insufficient_history'] }) status!: 'insufficient_history';
  @ApiProperty() reason!: string;
  @ApiProperty({ description: 'Labelled customers there were.' }) examples!: number;
}

export class ClusterSummaryDto implements ClusterSummary {
  @ApiProperty({ description: 'Numbered by size, largest first.' }) cluster!: number;
  @ApiProperty() size!: number;
  @ApiProperty() share!: number;
  @ApiProperty(numbersBy(CLUSTER_FEATURES, 'Mean of each feature over the members (days, orders, revenue).'))
  centroid!: ClusterSummary['centroid'];
  @ApiProperty(numbersBy(CLUSTER_FEATURES, "Standardized distance of the cluster's centre from the mean."))
  zScores!: ClusterSummary['zScores'];
  @ApiProperty({ example: 'high frequency, low recency' }) description!: string;
}

export class ClusteredDto implements Clustered {
  @ApiProperty({ enum: ['clustered'] }) status!: 'clustered';
  @ApiProperty() k!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, description: 'Mean silhouette by k tried.' })
  silhouetteByK!: Record<number, number>;
  @ApiProperty({ type: [ClusterSummaryDto] }) summaries!: ClusterSummaryDto[];
}

export class UnclusteredDto implements Unclustered {
  @ApiProperty({ enum: ['too_few_customers'] }) status!: 'too_few_customers';
}

/** The variants of the report, referenced by `oneOf` (registered with @ApiExtraModels). */
export const REPORT_VARIANTS = [TrainedChurnDto, UntrainedChurnDto, ClusteredDto, UnclusteredDto];

export class PredictionReportDto implements PredictionReportView {
  @ApiProperty({ format: 'date-time', description: 'When the predictions are as of.' }) asOf!: string;
  @ApiProperty() profiles!: number;
  @ApiProperty({ description: 'Profiles with an order before asOf (the population of every prediction).' }) customers!: number;
  @ApiProperty(numbersBy(RFM_TIERS, 'Customers per RFM tier.')) rfmTiers!: Record<RfmTier, number>;
  @ApiProperty({ oneOf: [{ $ref: getSchemaPath(TrainedChurnDto) }, { $ref: getSchemaPath(UntrainedChurnDto) }] })
  churn!: PredictionReportView['churn'];
  @ApiProperty({ oneOf: [{ $ref: getSchemaPath(ClusteredDto) }, { $ref: getSchemaPath(UnclusteredDto) }] })
  clusters!: PredictionReport['clusters'];
}

export class PredictionRunDto implements PredictionRunView {
  @ApiProperty() workspaceId!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time' }) finishedAt!: string;
  @ApiProperty({ description: 'Profiles given predictions.' }) predicted!: number;
  @ApiProperty({ type: [String], description: 'Segments re-evaluated because they read a predicted trait.' }) refreshedSegments!: string[];
  @ApiProperty({ type: PredictionReportDto }) report!: PredictionReportDto;
}

export class LatestReportDto implements LatestReportView {
  @ApiProperty({ type: PredictionReportDto }) report!: PredictionReportDto;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time' }) finishedAt!: string;
}

export class SegmentPredictionDto implements SegmentPredictionView {
  @ApiProperty() workspaceId!: string;
  @ApiProperty() profileId!: string;
  @ApiProperty({ example: '545', description: 'Recency, frequency and monetary quintiles (1..5) over the customers.' })
  predicted_rfm!: string;
  @ApiProperty({ enum: RFM_TIERS }) predicted_rfm_tier!: RfmTier;
  @ApiProperty({ nullable: true, type: Number, description: 'Probability of no order in the horizon; null while history is too short.' })
  predicted_churn_risk!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Behavioural cluster; null when the customers could not be clustered.' })
  predicted_cluster!: number | null;
  @ApiProperty({ type: CustomerFeaturesDto, description: 'What the predictions were made from.' }) features!: CustomerFeaturesDto;
  @ApiProperty({ format: 'date-time', description: 'asOf of the run that wrote it.' }) computedAt!: string;
}
