import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { isDuplicateKey, MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import type { MergeScore } from './identity-profiles.repository';
import { pairKey } from './fuzzy-decision';

export type ReviewStatus = 'pending' | 'accepted' | 'rejected';

/** A pair of profiles fuzzy matching found likely but not sure enough to merge by itself. */
export interface IdentityReviewDoc extends WorkspaceDocument {
  /** `pairKey` of the two profiles: the natural key, so a pair is queued once. */
  reviewId: string;
  /** The profile of the event that found the candidate, and the candidate (canonical ids at that time). */
  profileId: string;
  candidateProfileId: string;
  score: MergeScore;
  messageId: string;
  status: ReviewStatus;
  createdAt: Date;
  decidedAt?: Date;
  /** The merge an accept made (its id), once accepted. */
  mergeId?: string;
}

/**
 * Collection `identity_reviews`, `_id` = workspace:reviewId. Written per event by `_id` only;
 * the listing (an admin request, not per event) filters and sorts by scanning the workspace's reviews.
 */
@Injectable()
export class IdentityReviewsRepository extends WorkspaceRepository<IdentityReviewDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_reviews', ['reviewId']);
  }

  indexes(): IndexDescription[] {
    return [];
  }

  /**
   * Queues the pair unless it is already there: a pending, accepted or rejected pair stays as it
   * is, so a rejected pair is not queued again. `$setOnInsert` is safe here: no field is null or [].
   * True when this call queued it.
   */
  async queue(workspaceId: string, review: Omit<IdentityReviewDoc, 'workspaceId' | 'reviewId' | 'status' | 'createdAt'>): Promise<boolean> {
    const reviewId = pairKey(review.profileId, review.candidateProfileId);
    try {
      const result = await this.updateOne(
        workspaceId,
        { reviewId },
        { $setOnInsert: { ...review, status: 'pending', createdAt: new Date() } },
        { upsert: true },
      );
      return result.upsertedCount === 1;
    } catch (e) {
      // A concurrent writer queued the same pair first.
      if (!isDuplicateKey(e)) throw e;
      return false;
    }
  }

  async get(workspaceId: string, reviewId: string): Promise<IdentityReviewDoc | null> {
    return this.findOne(workspaceId, { reviewId }, { projection: { _id: 0 } });
  }

  /** Newest first; `status` filters (default: pending). */
  list(workspaceId: string, status: ReviewStatus, limit: number, offset: number): Promise<IdentityReviewDoc[]> {
    return this.find(workspaceId, { status }, { projection: { _id: 0 }, sort: { createdAt: -1, reviewId: 1 }, skip: offset, limit });
  }

  /** Pending reviews of all workspaces, for the open-reviews gauge (a scan: refreshed rarely, never per event). */
  countPending(): Promise<number> {
    return this.collection.countDocuments({ status: 'pending' });
  }

  /** Compare-and-set from pending, so two admins deciding at once do not both act. */
  async decide(workspaceId: string, reviewId: string, status: 'accepted' | 'rejected', mergeId?: string): Promise<boolean> {
    const result = await this.updateOne(
      workspaceId,
      { reviewId, status: 'pending' },
      { $set: { status, decidedAt: new Date(), ...(mergeId ? { mergeId } : {}) } },
    );
    return result.matchedCount === 1;
  }
}
