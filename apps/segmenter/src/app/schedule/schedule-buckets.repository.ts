import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { isDuplicateKey, MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';

/** Width of a schedule bucket: the timer's resolution. */
export const BUCKET_MS = 1_000;

/** The bucket (epoch second) an instant falls in. */
export const bucketOf = (ms: number): number => Math.floor(ms / BUCKET_MS);

export interface ScheduleBucketDocument extends WorkspaceDocument {
  /** Epoch second: the bucket holds memberships due within [second, second + 1) s. */
  second: number;
  /** `_id`s of the `segment_schedule` entries placed here. A hint: the entry says whether it is still due. */
  refs: string[];
  /** Bumped by every placement, so the timer drops a bucket only if nothing was placed since it read it. */
  writes: number;
}

/**
 * The schedule by time (collection `segment_schedule_buckets`): one document per workspace and
 * second, under `_id` workspace:second, so the timer reads exactly the seconds that came due by
 * `_id` (the store indexes nothing else) instead of scanning every entry for a due time.
 */
@Injectable()
export class ScheduleBucketsRepository extends WorkspaceRepository<ScheduleBucketDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_schedule_buckets', ['second']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, second: 1 }, name: 'workspace_second', unique: true }];
  }

  async place(workspaceId: string, second: number, ref: string): Promise<void> {
    const update = { $addToSet: { refs: ref }, $inc: { writes: 1 } };
    try {
      await this.updateOne(workspaceId, { second }, update, { upsert: true });
    } catch (e) {
      // A concurrent upsert inserted it first: now a plain update applies.
      if (!isDuplicateKey(e)) throw e;
      await this.updateOne(workspaceId, { second }, update);
    }
  }

  /** The stored buckets among these seconds (at most 1,000: one `_id` `$in`). */
  read(workspaceId: string, seconds: number[]): Promise<ScheduleBucketDocument[]> {
    if (seconds.length === 0) return Promise.resolve([]);
    return this.find(workspaceId, { second: { $in: seconds } }, { sort: { second: 1 } });
  }

  /** Drops a bucket the timer has worked through, unless a placement came in after `writes` was read. */
  async dropIfUnchanged(workspaceId: string, second: number, writes: number): Promise<boolean> {
    return (await this.deleteMany(workspaceId, { second, writes })).deletedCount === 1;
  }
}
