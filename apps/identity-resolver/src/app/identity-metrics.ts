import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { Metrics } from '@cdp/platform';
import { IdentityReviewsRepository } from './identity-reviews.repository';

/** The open-reviews gauge counts by scanning the collection (FerretDB): at most this often. */
const OPEN_REVIEWS_REFRESH_MS = 30_000;

export type FuzzyOutcomeLabel = 'merged' | 'reviewed' | 'none' | 'limits';
export type ChunkStage = 'decode' | 'group' | 'resolve' | 'produce';

/**
 * The identity-resolver's own metrics, beside the pipeline ones of @cdp/platform (and the database
 * commands of @cdp/mongo): the review queue, fuzzy matching, the time per chunk in each step.
 */
@Injectable()
export class IdentityMetrics {
  readonly reviews: Counter<'decision'>;
  readonly fuzzyComparisons: Counter;
  readonly fuzzyOutcomes: Counter<'outcome'>;
  readonly stageSeconds: Histogram<'stage'>;

  constructor(metrics: Metrics, reviewsRepository: IdentityReviewsRepository) {
    const registers = [metrics.registry];
    this.reviews = new Counter({
      name: 'cdp_identity_reviews_total',
      help: 'Review queue decisions: queued (a new pair between the thresholds), accepted, rejected.',
      labelNames: ['decision'] as const,
      registers,
    });
    let open = { value: 0, at: 0 };
    new Gauge({
      name: 'cdp_identity_reviews_open',
      help: `Pending pairs in the review queue, all workspaces (recounted at most every ${OPEN_REVIEWS_REFRESH_MS / 1000} s).`,
      registers,
      async collect() {
        if (Date.now() - open.at >= OPEN_REVIEWS_REFRESH_MS) open = { value: await reviewsRepository.countPending(), at: Date.now() };
        this.set(open.value);
      },
    });
    this.fuzzyComparisons = new Counter({
      name: 'cdp_identity_fuzzy_comparisons_total',
      help: 'Candidate records scored against an eligible identify call (Fellegi-Sunter comparisons).',
      registers,
    });
    this.fuzzyOutcomes = new Counter({
      name: 'cdp_identity_fuzzy_matches_total',
      help: 'Eligible identify calls by fuzzy outcome: merged, reviewed (pair queued), none, limits (a match the identity limits keep apart).',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.stageSeconds = new Histogram({
      name: 'cdp_identity_stage_seconds',
      help: 'Time per chunk of normalized events in each step: decode (and rules), group (the chunk read), resolve (flat and fuzzy, writes), produce (encode, send).',
      labelNames: ['stage'] as const,
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }
}
