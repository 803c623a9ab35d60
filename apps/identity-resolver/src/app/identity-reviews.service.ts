import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { recordKey, Topics } from '@cdp/contracts';
import { KafkaGateway } from '@cdp/kafka';
import { FuzzyLinker } from './fuzzy-linker.service';
import { IdentityMetrics } from './identity-metrics';
import { IdentityReviewsRepository, type IdentityReviewDoc, type ReviewStatus } from './identity-reviews.repository';
import { IdentityRulesService } from './identity-rules.service';
import { toIdentityMerge } from './outputs';

export const describeReview = (r: IdentityReviewDoc) => ({
  reviewId: r.reviewId,
  profileId: r.profileId,
  candidateProfileId: r.candidateProfileId,
  score: r.score,
  messageId: r.messageId,
  status: r.status,
  createdAt: r.createdAt.toISOString(),
  decidedAt: r.decidedAt ? r.decidedAt.toISOString() : null,
  mergeId: r.mergeId ?? null,
});

/** The review queue of fuzzy matching: pairs scored between the review and auto-merge thresholds. */
@Injectable()
export class IdentityReviewsService {
  constructor(
    private readonly reviews: IdentityReviewsRepository,
    private readonly linker: FuzzyLinker,
    private readonly rules: IdentityRulesService,
    private readonly kafka: KafkaGateway,
    private readonly metrics: IdentityMetrics,
  ) {}

  async list(workspaceId: string, status: ReviewStatus, limit: number, offset: number) {
    const items = await this.reviews.list(workspaceId, status, limit + 1, offset);
    return { items: items.slice(0, limit).map(describeReview), limit, offset, hasMore: items.length > limit };
  }

  /**
   * Merges the pair (reason `fuzzy_match`, `reviewed`), under the workspace's limits, and publishes
   * the merge on cdp.identity.merges.v1 like the consumer does. 409 if the limits forbid it.
   */
  async accept(workspaceId: string, reviewId: string) {
    const review = await this.pending(workspaceId, reviewId);
    const rules = await this.rules.forWorkspace(workspaceId);
    const result = await this.linker.merge(workspaceId, review.profileId, review.candidateProfileId, rules, Date.now(), {
      reason: 'fuzzy_match',
      identifiers: [],
      messageId: null,
      receivedAt: null,
      timestamp: null,
      score: review.score,
      reviewed: true,
    });
    if (result.status === 'limits')
      throw new ConflictException('merging the two profiles would break the identity limits of the workspace');
    if (result.status === 'missing') throw new ConflictException('one of the two profiles no longer exists (erased)');
    if (result.status === 'merged') {
      const codec = await this.kafka.codec(Topics.identityMerges);
      await this.kafka.producer.send([
        {
          topic: codec.topic,
          key: recordKey(workspaceId, result.merge.intoProfileId),
          value: await codec.encode(toIdentityMerge(workspaceId, result.merge)),
        },
      ]);
    }
    const mergeId = result.status === 'merged' ? result.merge.merge.mergeId : undefined;
    await this.reviews.decide(workspaceId, reviewId, 'accepted', mergeId);
    this.metrics.reviews.inc({ decision: 'accepted' });
    return {
      ...describeReview({ ...review, status: 'accepted', decidedAt: new Date(), ...(mergeId ? { mergeId } : {}) }),
      survivorProfileId: result.profileId,
      merged: result.status === 'merged',
    };
  }

  /** Records the rejection: the pair stays in the collection, so fuzzy matching does not queue it again. */
  async reject(workspaceId: string, reviewId: string) {
    const review = await this.pending(workspaceId, reviewId);
    if (!(await this.reviews.decide(workspaceId, reviewId, 'rejected'))) throw new ConflictException('the review was decided concurrently');
    this.metrics.reviews.inc({ decision: 'rejected' });
    return describeReview({ ...review, status: 'rejected', decidedAt: new Date() });
  }

  private async pending(workspaceId: string, reviewId: string): Promise<IdentityReviewDoc> {
    const review = await this.reviews.get(workspaceId, reviewId);
    if (!review) throw new NotFoundException('no such review');
    if (review.status !== 'pending') throw new ConflictException(`the review is already ${review.status}`);
    return review;
  }
}
