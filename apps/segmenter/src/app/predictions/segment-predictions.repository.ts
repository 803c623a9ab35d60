import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import type { CustomerFeatures, ProfilePrediction } from '@cdp/predictions';
import { MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';
import type { PredictedTraits } from './order-histories';

export interface SegmentPredictionDocument extends WorkspaceDocument, PredictedTraits {
  profileId: string;
  /** The features the predictions were made from (days, orders, revenue), for explanation. */
  features: CustomerFeatures;
  /** The `asOf` of the run that wrote this document. */
  computedAt: number;
}

/** Profile ids per query by document id (the `_id` list stays well under the store's limit). */
const MAX_IDS_PER_QUERY = 500;

/**
 * The latest predictions of each customer (collection `segment_predictions`, one document per
 * workspace + profile), read by document id when profiles are evaluated.
 */
@Injectable()
export class SegmentPredictionsRepository extends WorkspaceRepository<SegmentPredictionDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_predictions', ['profileId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, profileId: 1 }, name: 'workspace_profile', unique: true }];
  }

  /** Writes a run's predictions, then drops those of profiles the run no longer predicts for (no longer customers, erased). */
  async replaceAll(workspaceId: string, predictions: readonly ProfilePrediction[], computedAt: number): Promise<void> {
    for (let i = 0; i < predictions.length; i += MAX_IDS_PER_QUERY) {
      await this.upsertEach(
        workspaceId,
        predictions.slice(i, i + MAX_IDS_PER_QUERY).map((p) => ({
          filter: { profileId: p.profileId },
          update: {
            $set: {
              profileId: p.profileId,
              predicted_rfm: p.predicted_rfm,
              predicted_rfm_tier: p.predicted_rfm_tier,
              predicted_churn_risk: p.predicted_churn_risk,
              predicted_cluster: p.predicted_cluster,
              features: p.features,
              computedAt,
            },
          },
        })),
      );
    }
    await this.deleteMany(workspaceId, { computedAt: { $lt: computedAt } });
  }

  get(workspaceId: string, profileId: string): Promise<SegmentPredictionDocument | null> {
    return this.findOne(workspaceId, { profileId }, { projection: { _id: 0 } });
  }

  /** The predicted traits of many profiles, by profile id (absent: no prediction). */
  async traitsFor(workspaceId: string, profileIds: readonly string[]): Promise<Map<string, PredictedTraits>> {
    const out = new Map<string, PredictedTraits>();
    const queries = [];
    for (let i = 0; i < profileIds.length; i += MAX_IDS_PER_QUERY)
      queries.push(this.find(workspaceId, { profileId: { $in: profileIds.slice(i, i + MAX_IDS_PER_QUERY) } }, { projection: { _id: 0 } }));
    for (const d of (await Promise.all(queries)).flat()) {
      out.set(d.profileId, {
        predicted_rfm: d.predicted_rfm,
        predicted_rfm_tier: d.predicted_rfm_tier,
        predicted_churn_risk: d.predicted_churn_risk,
        predicted_cluster: d.predicted_cluster,
      });
    }
    return out;
  }

  count(workspaceId: string): Promise<number> {
    return this.collection.countDocuments(this.scope(workspaceId));
  }
}
