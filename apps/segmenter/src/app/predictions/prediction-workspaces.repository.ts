import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository } from '@cdp/mongo';
import type { SegmentProfileDocument } from '../history/segment-profiles.repository';

/**
 * Which workspaces the scheduled run visits: those with profile snapshots. A read-only view of
 * `segment_profiles` (its owner, SegmentProfilesRepository, declares the indexes); the one
 * cross-workspace query of the segmenter, made once per interval.
 */
@Injectable()
export class PredictionWorkspacesRepository extends WorkspaceRepository<SegmentProfileDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_profiles', ['profileId']);
  }

  indexes(): IndexDescription[] {
    return [];
  }

  async workspaces(): Promise<string[]> {
    const ids = (await this.collection.distinct('workspaceId', { deleted: false })) as unknown[];
    return ids.filter((id): id is string => typeof id === 'string').sort();
  }
}
