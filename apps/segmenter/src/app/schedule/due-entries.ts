import { Injectable } from '@nestjs/common';
import { bucketOf, ScheduleBucketsRepository, type ScheduleBucketDocument } from './schedule-buckets.repository';
import { ScheduleCursorsRepository, type ScheduleCursorDocument } from './schedule-cursors.repository';
import { ScheduleRepository, type ScheduleDocument } from './schedule.repository';

/** Bucket ids read per query (one `_id` `$in`). */
const BUCKETS_PER_READ = 500;
/** Closed buckets one workspace pass works through at most (a long downtime is caught up over several passes). */
const MAX_BUCKETS_PER_PASS = 6 * 3_600;
/** Times a closed bucket is re-read because placements kept landing in it while it was worked. */
const MAX_BUCKET_ROUNDS = 3;
/** Empty seconds a workspace's cursor may fall behind before a pass moves it on (a write) anyway. */
const IDLE_GAP = 60;

export interface PassOptions {
  now: number;
  owner: string;
  leaseMs: number;
  /** Handles a claimed entry (evaluates it and releases it). */
  fire: (entry: ScheduleDocument) => Promise<void>;
  /** Checked between entries, so shutdown need not wait for a whole pass. */
  stopped?: () => boolean;
}

/**
 * One timer pass over the schedule buckets: per workspace (under its cursor's lease), the closed
 * buckets from the cursor up to the current second, then a look at the current second's bucket.
 * Reads are by `_id` only; an entry fires if it is due and free, and is claimed first so that
 * two instances never fire the same one.
 */
@Injectable()
export class DueEntries {
  constructor(
    private readonly schedule: ScheduleRepository,
    private readonly buckets: ScheduleBucketsRepository,
    private readonly cursors: ScheduleCursorsRepository,
  ) {}

  /** Fires every due entry of every workspace; the number fired. */
  async pass(options: PassOptions): Promise<number> {
    let fired = 0;
    for (const cursor of await this.cursors.all()) {
      if (options.stopped?.()) break;
      if (await this.idle(cursor, options.now)) continue;
      fired += await this.workspacePass(cursor.workspaceId, options);
    }
    return fired;
  }

  /**
   * True when the workspace has no bucket up to the current second (one read) and its cursor is
   * not far behind: the pass then writes nothing. Reading without closing is safe: whatever is
   * placed meanwhile is read once the buckets are closed.
   */
  private async idle(cursor: ScheduleCursorDocument, now: number): Promise<boolean> {
    const current = bucketOf(now);
    if (current - cursor.readUpTo > IDLE_GAP) return false;
    const seconds = Array.from({ length: current - cursor.readUpTo + 1 }, (_, i) => cursor.readUpTo + i);
    return (await this.buckets.read(cursor.workspaceId, seconds)).length === 0;
  }

  private async workspacePass(workspaceId: string, options: PassOptions): Promise<number> {
    const { now, owner, leaseMs } = options;
    const current = bucketOf(now);
    // Closes every bucket before the current second; another instance holding the lease: skip.
    const cursor = await this.cursors.claim(workspaceId, now, owner, leaseMs, current);
    if (!cursor) return 0;
    let fired = 0;
    let readUpTo = cursor.readUpTo;
    const end = Math.min(cursor.closedBelow, readUpTo + MAX_BUCKETS_PER_PASS);
    try {
      while (readUpTo < end && !options.stopped?.()) {
        const to = Math.min(end, readUpTo + BUCKETS_PER_READ);
        const seconds = Array.from({ length: to - readUpTo }, (_, i) => readUpTo + i);
        let next = to;
        for (const bucket of await this.buckets.read(workspaceId, seconds)) {
          fired += await this.workClosed(bucket, options);
          // Stopped part-way: this bucket is read again by the next pass.
          if (options.stopped?.()) {
            next = bucket.second;
            break;
          }
        }
        readUpTo = next;
      }
      // The current second is still open (placements may land in it): fire what is due, keep it.
      if (readUpTo >= cursor.closedBelow && !options.stopped?.()) {
        const [open] = await this.buckets.read(workspaceId, [cursor.closedBelow]);
        if (open) fired += await this.fireDue(workspaceId, open.refs, options, false);
      }
    } finally {
      await this.cursors.finish(workspaceId, owner, readUpTo);
    }
    return fired;
  }

  /** Works a closed bucket through, then drops it (re-reading it if placements came in meanwhile). */
  private async workClosed(bucket: ScheduleBucketDocument, options: PassOptions): Promise<number> {
    const { workspaceId, second } = bucket;
    let fired = 0;
    let current: ScheduleBucketDocument | undefined = bucket;
    for (let round = 0; current && round < MAX_BUCKET_ROUNDS; round++) {
      fired += await this.fireDue(workspaceId, current.refs, options, true);
      if (options.stopped?.()) break;
      if (await this.buckets.dropIfUnchanged(workspaceId, second, current.writes)) break;
      // A placement after the read. Its writer also sees the bucket closed and places the entry
      // again in an open bucket, so giving up after a few rounds loses nothing; re-reading only
      // fires it sooner.
      [current] = await this.buckets.read(workspaceId, [second]);
    }
    return fired;
  }

  /**
   * Fires the due, free entries behind these references. An entry moved to a later time, or
   * removed, is skipped (its new bucket holds it). An entry still leased by another instance is
   * placed again at its lease's end when its bucket is closed, so it is looked at again then.
   */
  private async fireDue(workspaceId: string, refs: string[], options: PassOptions, closed: boolean): Promise<number> {
    const { now, owner, leaseMs, fire } = options;
    let fired = 0;
    for (const entry of await this.schedule.byRefs(workspaceId, refs)) {
      if (options.stopped?.()) break;
      if (entry.dueAt > now) continue;
      if (entry.leaseUntil > now && entry.leaseOwner !== owner) {
        if (closed) await this.schedule.place(workspaceId, String(entry._id), entry.leaseUntil);
        continue;
      }
      const claimed = await this.schedule.claim(entry, now, owner, leaseMs);
      if (!claimed) {
        // Changed since read: rescheduled (its new bucket holds it), removed, or claimed by an
        // instance that may yet die holding it: looked at again once such a lease would end.
        if (closed) await this.schedule.place(workspaceId, String(entry._id), now + leaseMs);
        continue;
      }
      await fire(claimed);
      fired++;
    }
    return fired;
  }
}
