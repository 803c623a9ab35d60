import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { isDuplicateKey, MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';

const TIMER = 'expiry';

export interface ScheduleCursorDocument extends WorkspaceDocument {
  timer: typeof TIMER;
  /**
   * Buckets below this second are closed: the timer has begun its last read of them, so a
   * placement there may be missed and must be repeated at `closedBelow` (see ScheduleRepository.set).
   */
  closedBelow: number;
  /** Buckets below this second have been worked through and dropped. */
  readUpTo: number;
  /** The workspace's buckets are worked by `leaseOwner` until this time (0: free). */
  leaseUntil: number;
  leaseOwner: string;
}

/**
 * How far the timer has read each workspace's schedule buckets (collection
 * `segment_schedule_cursors`, one small document per workspace), so that a restart carries on
 * from where the last pass stopped, and a lease so that one instance works a workspace at a time.
 */
@Injectable()
export class ScheduleCursorsRepository extends WorkspaceRepository<ScheduleCursorDocument> {
  /** Workspaces whose cursor this process has seen exist: cursors are never removed. */
  private readonly known = new Set<string>();

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_schedule_cursors', ['timer']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, timer: 1 }, name: 'workspace_timer', unique: true }];
  }

  /** Creates the workspace's cursor (at `second`) unless it exists: before its first bucket is placed. */
  async ensure(workspaceId: string, second: number): Promise<void> {
    if (this.known.has(workspaceId)) return;
    const initial = { closedBelow: second, readUpTo: second, leaseUntil: 0, leaseOwner: 'none' };
    try {
      await this.updateOne(workspaceId, { timer: TIMER }, { $setOnInsert: initial }, { upsert: true });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    this.known.add(workspaceId);
  }

  async closedBelow(workspaceId: string): Promise<number> {
    return (await this.findOne(workspaceId, { timer: TIMER }, { projection: { closedBelow: 1 } }))?.closedBelow ?? 0;
  }

  /** Every workspace's cursor: one small document each (the only scan the timer makes). */
  all(): Promise<ScheduleCursorDocument[]> {
    return this.collection.find({}).toArray();
  }

  /**
   * Takes the workspace's lease (free, expired or already ours) and closes the buckets below
   * `closeBelow` in the same write, so no placement below it can go unnoticed afterwards.
   */
  claim(workspaceId: string, now: number, owner: string, leaseMs: number, closeBelow: number): Promise<ScheduleCursorDocument | null> {
    return this.findOneAndUpdate(
      workspaceId,
      { timer: TIMER, $or: [{ leaseUntil: { $lte: now } }, { leaseOwner: owner }] },
      { $set: { leaseUntil: now + leaseMs, leaseOwner: owner }, $max: { closedBelow: closeBelow } },
      { returnDocument: 'after' },
    );
  }

  /** Records how far the buckets were worked through and frees the lease (if still ours). */
  async finish(workspaceId: string, owner: string, readUpTo: number): Promise<void> {
    await this.updateOne(
      workspaceId,
      { timer: TIMER, leaseOwner: owner },
      { $set: { leaseUntil: 0, leaseOwner: 'none' }, $max: { readUpTo } },
    );
  }
}
