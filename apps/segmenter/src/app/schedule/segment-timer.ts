import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { MembershipEvaluator, snapshotState } from '../evaluation/membership-evaluator';
import { SegmentChangePublisher } from '../evaluation/segment-change-publisher';
import { SegmentProfilesRepository } from '../history/segment-profiles.repository';
import type { SegmentChange } from '@cdp/contracts';
import { MembershipsRepository } from '../membership/memberships.repository';
import { SegmentCatalog } from '../segments/segment-catalog';
import { SegmentsRepository } from '../segments/segments.repository';
import { SegmenterConfig } from '../segmenter.config';
import { DueEntries } from './due-entries';
import { ScheduleRepository, type ScheduleDocument } from './schedule.repository';

/**
 * Expires windowed memberships on time with no new event: every interval, reads the schedule
 * buckets that came due (DueEntries: by `_id`, never a scan of the entries), claims each due
 * `segment_schedule` entry (a lease, so instances do not double-process), re-evaluates the membership as of the due time
 * through the same evaluator as the consumer, produces, then releases the entry. An instance
 * that dies mid-entry leaves a lease that expires; the next claim repeats the evaluation, which
 * finds its own stored transition and re-emits it (same membershipVersion).
 */
@Injectable()
export class SegmentTimer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SegmentTimer.name);
  private readonly owner = `timer-${randomBytes(6).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly schedule: ScheduleRepository,
    private readonly due: DueEntries,
    private readonly profiles: SegmentProfilesRepository,
    private readonly catalog: SegmentCatalog,
    private readonly evaluator: MembershipEvaluator,
    private readonly publisher: SegmentChangePublisher,
    private readonly config: SegmenterConfig,
    private readonly segments: SegmentsRepository,
    private readonly memberships: MembershipsRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.running = this.schedule
      .placeUnbucketed()
      .then((n) => {
        if (n > 0) this.logger.log(`placed ${n} schedule entries of an earlier version in their buckets`);
      })
      .catch((e: unknown) => this.logger.error(`placing earlier schedule entries failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => this.arm(0));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.drain()
        .then(() => undefined)
        .catch((e: unknown) => this.logger.error(`timer pass failed, will retry: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => this.arm(this.config.SEGMENT_TIMER_INTERVAL_MS));
    }, delayMs);
  }

  /** Fires every entry due now (shutdown stops it between entries); the number fired. */
  drain(): Promise<number> {
    return this.due.pass({
      now: Date.now(),
      owner: this.owner,
      leaseMs: this.config.SEGMENT_TIMER_LEASE_MS,
      fire: (entry) => this.fire(entry),
      stopped: () => this.stopped,
    });
  }

  private async fire(entry: ScheduleDocument): Promise<void> {
    const { workspaceId, segmentId, profileId } = entry;
    const [segments, snapshot] = await Promise.all([this.catalog.forWorkspace(workspaceId), this.profiles.get(workspaceId, profileId)]);
    if (snapshot && segments.byId.has(segmentId)) {
      const changes = await this.evaluator.evaluate(
        workspaceId,
        segments,
        snapshotState(snapshot),
        new Set([segmentId]),
        // As of the due time, not of now: a retried entry evaluates, and decides, exactly the same.
        { asOf: entry.dueAt, receivedAt: null },
      );
      await this.publisher.publish(await this.unlessDeleted(workspaceId, segmentId, profileId, changes));
    }
    await this.schedule.release(entry);
  }

  /**
   * The changes, or, when they enter the profile into a segment that is being deleted (this
   * instance's catalog can hold it for SEGMENT_CACHE_TTL_MS after the mark), none of that
   * segment's: the entry is taken back before anyone hears of it, since the deletion may have read
   * the members already. Read from the store only then: entries are rare, fires are not.
   */
  private async unlessDeleted(
    workspaceId: string,
    segmentId: string,
    profileId: string,
    changes: SegmentChange[],
  ): Promise<SegmentChange[]> {
    if (!changes.some((c) => c.segmentId === segmentId && c.change === 'entered')) return changes;
    const stored = await this.segments.get(workspaceId, segmentId);
    if (stored && !stored.deleting) return changes;
    await this.memberships.removeProfiles(workspaceId, segmentId, [profileId]);
    return changes.filter((c) => c.segmentId !== segmentId);
  }
}
