import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { isDuplicateKey, MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';

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
 * When each windowed membership must be looked at again (collection `segment_schedule`): one
 * document per workspace + segment + profile, rewritten by every evaluation of that membership.
 */
@Injectable()
export class ScheduleRepository extends WorkspaceRepository<ScheduleDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_schedule', ['segmentId', 'profileId']);
  }

  indexes(): IndexDescription[] {
    return [
      { key: { workspaceId: 1, segmentId: 1, profileId: 1 }, name: 'workspace_segment_profile', unique: true },
      // The timer's claim query spans workspaces (see claimDue).
      { key: { dueAt: 1 }, name: 'due_at' },
    ];
  }

  /** Sets (or, with null, removes) the next due time of a membership; frees any lease on it. */
  async set(workspaceId: string, segmentId: string, profileId: string, dueAt: number | null): Promise<void> {
    if (dueAt === null) {
      await this.deleteMany(workspaceId, { segmentId, profileId });
      return;
    }
    const update = { $set: { dueAt, leaseUntil: 0, leaseOwner: '' } };
    try {
      await this.updateOne(workspaceId, { segmentId, profileId }, update, { upsert: true });
    } catch (e) {
      // A concurrent upsert inserted it first: now a plain update applies.
      if (!isDuplicateKey(e)) throw e;
      await this.updateOne(workspaceId, { segmentId, profileId }, update);
    }
  }

  /**
   * Claims the most overdue free entry of any workspace for `leaseMs`, or null. Across
   * workspaces on purpose: one timer serves them all; every later read or write of the claimed
   * membership is scoped to the entry's workspace again.
   */
  async claimDue(now: number, owner: string, leaseMs: number): Promise<ScheduleDocument | null> {
    return this.collection.findOneAndUpdate(
      { dueAt: { $lte: now }, leaseUntil: { $lte: now } },
      { $set: { leaseUntil: now + leaseMs, leaseOwner: owner } },
      { sort: { dueAt: 1 }, returnDocument: 'after', includeResultMetadata: false },
    );
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

  /** Due entries of a workspace (for tests and the API). */
  forProfile(workspaceId: string, profileId: string): Promise<ScheduleDocument[]> {
    return this.find(workspaceId, { profileId }, { projection: { _id: 0 } });
  }
}
