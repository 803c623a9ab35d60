import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { isDuplicateKey, MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';
import { byProfileAndSegment } from '../by-profile-and-segment';
import { bucketOf, ScheduleBucketsRepository } from './schedule-buckets.repository';
import { ScheduleCursorsRepository } from './schedule-cursors.repository';

export interface ScheduleDocument extends WorkspaceDocument {
  segmentId: string;
  profileId: string;
  /** The next moment (epoch ms) this membership can change with no new data. */
  dueAt: number;
  /** Claimed by `leaseOwner` until this time (0: free). */
  leaseUntil: number;
  leaseOwner: string;
}

/**
 * A placement due further ahead than this skips the check against the timer's cursor: the timer
 * closes a bucket only once its own clock has passed it, so this is the clock skew between
 * instances (plus the time a write may take) that the schedule tolerates.
 */
export const CURSOR_CHECK_HORIZON_MS = 60_000;

/** Placements one set() makes at most while the timer keeps closing buckets under it. */
const MAX_PLACEMENTS = 10;

/**
 * When each windowed membership must be looked at again (collection `segment_schedule`): one
 * document per workspace + segment + profile, rewritten by every evaluation of that membership;
 * it is the truth about whether a membership is due. Each set() also places the entry's `_id` in
 * the bucket of its due second (ScheduleBucketsRepository), which is how the timer finds it.
 */
@Injectable()
export class ScheduleRepository extends WorkspaceRepository<ScheduleDocument> {
  constructor(
    mongo: MongoConnection,
    private readonly buckets: ScheduleBucketsRepository,
    private readonly cursors: ScheduleCursorsRepository,
  ) {
    super(mongo.db, 'segment_schedule', ['segmentId', 'profileId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, segmentId: 1, profileId: 1 }, name: 'workspace_segment_profile', unique: true }];
  }

  /**
   * Sets (or, with null, removes) the next due time of a membership; frees any lease on it. A
   * removed or moved entry leaves its old bucket reference behind: the timer reads the entry and
   * skips it. The entry and its placement are written together; if either fails the caller fails
   * and its trigger (a Kafka record, a timer pass, a backfill run) is repeated.
   */
  async set(workspaceId: string, segmentId: string, profileId: string, dueAt: number | null): Promise<void> {
    if (dueAt === null) {
      await this.deleteMany(workspaceId, { segmentId, profileId });
      return;
    }
    const update = { $set: { dueAt, leaseUntil: 0, leaseOwner: '' } };
    const upsert = async (): Promise<void> => {
      try {
        await this.updateOne(workspaceId, { segmentId, profileId }, update, { upsert: true });
      } catch (e) {
        // A concurrent upsert inserted it first: now a plain update applies.
        if (!isDuplicateKey(e)) throw e;
        await this.updateOne(workspaceId, { segmentId, profileId }, update);
      }
    };
    await this.cursors.ensure(workspaceId, bucketOf(Date.now()));
    await Promise.all([upsert(), this.place(workspaceId, this.keyId(workspaceId, segmentId, profileId), dueAt)]);
  }

  /**
   * Places an entry in the bucket of `at`. Near (or past) due times are checked against the
   * timer's cursor after the write: if the bucket was already closed, the timer may have read it
   * before this placement landed, so the entry is placed again in the first open bucket (which
   * the timer will still read) until a placement lands in an open one.
   */
  async place(workspaceId: string, ref: string, at: number): Promise<void> {
    let second = bucketOf(at);
    await this.buckets.place(workspaceId, second, ref);
    if (at - Date.now() >= CURSOR_CHECK_HORIZON_MS) return;
    for (let i = 0; i < MAX_PLACEMENTS; i++) {
      const closedBelow = await this.cursors.closedBelow(workspaceId);
      if (second >= closedBelow) return;
      second = closedBelow;
      await this.buckets.place(workspaceId, second, ref);
    }
    throw new Error(`schedule ${ref}: the timer kept closing buckets under the placement`);
  }

  /**
   * Places every entry in its bucket when no workspace has a cursor yet, i.e. once, on the first
   * start after the schedule had no buckets (entries written by an earlier version): a single scan.
   */
  async placeUnbucketed(): Promise<number> {
    if ((await this.cursors.all()).length > 0) return 0;
    const entries = await this.collection.find({}, { projection: { workspaceId: 1, dueAt: 1 } }).toArray();
    const now = Date.now();
    for (const e of entries) {
      await this.cursors.ensure(e.workspaceId, bucketOf(now));
      await this.place(e.workspaceId, String(e._id), e.dueAt);
    }
    return entries.length;
  }

  /** The entries behind these bucket references (`_id`s), by one `_id` read. */
  byRefs(workspaceId: string, refs: string[]): Promise<ScheduleDocument[]> {
    if (refs.length === 0) return Promise.resolve([]);
    return this.find(workspaceId, { _id: { $in: refs } });
  }

  /** Claims a free due entry for `leaseMs`, unless it changed since it was read; the claimed entry or null. */
  async claim(entry: ScheduleDocument, now: number, owner: string, leaseMs: number): Promise<ScheduleDocument | null> {
    const { workspaceId, segmentId, profileId, dueAt } = entry;
    const lease = { leaseUntil: now + leaseMs, leaseOwner: owner };
    const result = await this.updateOne(
      workspaceId,
      // Free, expired, or ours from a pass that failed part-way.
      { segmentId, profileId, dueAt, $or: [{ leaseUntil: { $lte: now } }, { leaseOwner: owner }] },
      { $set: lease },
    );
    return result.matchedCount === 1 ? { ...entry, ...lease } : null;
  }

  /** Drops a claimed entry unless an evaluation rescheduled it meanwhile (which frees the lease). */
  async release(entry: ScheduleDocument): Promise<void> {
    await this.deleteMany(entry.workspaceId, {
      segmentId: entry.segmentId,
      profileId: entry.profileId,
      dueAt: entry.dueAt,
      leaseOwner: entry.leaseOwner,
      leaseUntil: entry.leaseUntil,
    });
  }

  /** The entries of these profiles in these segments, by profile id then segment id (read by document id). */
  async forProfiles(workspaceId: string, profileIds: string[], segmentIds: string[]): Promise<Map<string, Map<string, ScheduleDocument>>> {
    return byProfileAndSegment(
      await this.findCombinations(workspaceId, ['profileId', profileIds], ['segmentId', segmentIds], { projection: { _id: 0 } }),
    );
  }

  /** Due entries of a workspace (for tests and the API). */
  forProfile(workspaceId: string, profileId: string): Promise<ScheduleDocument[]> {
    return this.find(workspaceId, { profileId }, { projection: { _id: 0 } });
  }
}
