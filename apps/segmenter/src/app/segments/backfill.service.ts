import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { MembershipEvaluator } from '../evaluation/membership-evaluator';
import { SegmentChangePublisher } from '../evaluation/segment-change-publisher';
import { SegmentProfilesRepository } from '../history/segment-profiles.repository';
import { SegmenterConfig } from '../segmenter.config';
import { SegmentCatalog, type WorkspaceSegments } from './segment-catalog';
import { SegmentsRepository, type BackfillProgress } from './segments.repository';

/**
 * Evaluates a new or changed definition over every profile snapshot, in batches, through the
 * same evaluator (and compare-and-set) as the consumer; so live changes evaluated meanwhile and
 * the backfill never emit the same transition twice, and nothing is missed between them.
 * Progress is stored on the segment document; a newer definition version stops an older run. A
 * run whose progress stopped moving (its instance stopped) is started again by one instance; so
 * is a run this instance's shutdown stopped between pages.
 */
@Injectable()
export class BackfillService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BackfillService.name);
  private readonly jobs = new Set<Promise<void>>();
  private resumeTimer: NodeJS.Timeout | undefined;
  private resuming: Promise<void> | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(
    private readonly segments: SegmentsRepository,
    private readonly profiles: SegmentProfilesRepository,
    private readonly catalog: SegmentCatalog,
    private readonly evaluator: MembershipEvaluator,
    private readonly publisher: SegmentChangePublisher,
    private readonly config: SegmenterConfig,
  ) {}

  /**
   * Starts a run in the background; the HTTP answer does not wait for it, only for its first
   * progress to be stored, which it answers (null: the segment changed or could not be written).
   */
  async start(workspaceId: string, segmentId: string, version: number): Promise<BackfillProgress | null> {
    const progress = firstProgress(version);
    try {
      if (!(await this.segments.saveBackfill(workspaceId, segmentId, progress))) return null;
    } catch (e) {
      this.logger.error(`backfill of ${segmentId} v${version} not started: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
    const job = this.run(workspaceId, segmentId, version, { ...progress })
      .catch(async (e: unknown) => {
        this.logger.error(`backfill of ${segmentId} v${version} failed: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => this.jobs.delete(job));
    this.jobs.add(job);
    return progress;
  }

  onApplicationBootstrap(): void {
    this.armResume(0);
  }

  /** Stops the runs between pages (left `running`: another instance starts them again) and waits for them. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.resumeTimer);
    await this.resuming;
    await Promise.all([...this.jobs]);
  }

  private armResume(delayMs: number): void {
    if (this.stopped) return;
    this.resumeTimer = setTimeout(() => {
      this.resuming = this.resumeStale()
        .catch((e: unknown) => this.logger.error(`backfill resume check failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => this.armResume(this.config.SEGMENT_BACKFILL_STALE_MS / 2));
    }, delayMs);
  }

  /**
   * Starts again every run whose progress has not moved for SEGMENT_BACKFILL_STALE_MS, claimed
   * first; plus SEGMENT_CACHE_TTL_MS, which a run waits before its first page without a write.
   */
  private async resumeStale(): Promise<void> {
    const { SEGMENT_BACKFILL_STALE_MS, SEGMENT_CACHE_TTL_MS } = this.config;
    const stale = await this.segments.staleBackfills(new Date(Date.now() - SEGMENT_BACKFILL_STALE_MS - SEGMENT_CACHE_TTL_MS));
    for (const run of stale) {
      if (this.stopped || !(await this.segments.claimBackfill(run))) continue;
      this.logger.log(`backfill of ${run.segmentId} v${run.version} had stopped moving: started again`);
      await this.start(run.workspaceId, run.segmentId, run.version);
    }
  }

  /** Waits SEGMENT_CACHE_TTL_MS; false when shutdown came first. */
  private async settled(): Promise<boolean> {
    try {
      await sleep(this.config.SEGMENT_CACHE_TTL_MS, undefined, { signal: this.stopping.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** The run after its first progress (stored by `start`). */
  private async run(workspaceId: string, segmentId: string, version: number, progress: BackfillProgress): Promise<void> {
    // Counting is a scan of its own: it runs alongside the pages (the total shows up in the
    // progress once known) instead of delaying the first one.
    void this.profiles
      .count(workspaceId)
      .then((total) => (progress.total = Math.max(total, progress.processed)))
      .catch(() => undefined);
    // Other instances' consumers evaluate changes with catalogs up to SEGMENT_CACHE_TTL_MS old, so
    // without this definition: a page read before then could hold a snapshot older than a change
    // so evaluated. After it, a chunk that read its catalog earlier finds the definition when it
    // looks again after saving its snapshots, and evaluates it itself (ProfileChangesConsumer).
    if (!(await this.settled())) return;
    const pagesFrom = Date.now();
    try {
      for await (const page of this.profiles.pages(workspaceId, this.config.SEGMENT_BACKFILL_BATCH)) {
        if (this.stopped) return;
        const segments = await this.current(workspaceId, segmentId, version);
        if (!segments) return; // deleted or superseded: the newer run reports
        const changes = await this.evaluator.evaluateSnapshots(workspaceId, segments, page, new Set([segmentId]));
        await this.publisher.publish(changes);
        progress.processed += page.length;
        // 0 until the count is in (percent 0, not 100, meanwhile).
        if (progress.total > 0) progress.total = Math.max(progress.total, progress.processed);
        for (const c of changes) if (c.segmentId === segmentId) progress[c.change === 'entered' ? 'entered' : 'exited'] += 1;
        progress.profilesPerSecond = Math.round(progress.processed / Math.max((Date.now() - pagesFrom) / 1000, 0.001));
        if (!(await this.segments.saveBackfill(workspaceId, segmentId, progress))) return;
      }
      await this.segments.saveBackfill(workspaceId, segmentId, {
        ...progress,
        status: 'done',
        total: progress.processed,
        finishedAt: new Date(),
      });
    } catch (e) {
      await this.segments.saveBackfill(workspaceId, segmentId, { ...progress, status: 'failed', finishedAt: new Date() });
      throw e;
    }
  }

  /**
   * The workspace's compiled segments if they hold this segment at this version (reloading once
   * if the cache is behind), and the stored segment is still that version, not being deleted: read
   * per page, not from the cache, so a deletion (which reads the members SEGMENT_CACHE_TTL_MS after
   * its mark) stops the run before a page could enter anyone it would not see.
   */
  private async current(workspaceId: string, segmentId: string, version: number): Promise<WorkspaceSegments | null> {
    const stored = await this.segments.get(workspaceId, segmentId);
    if (!stored || stored.deleting || stored.version !== version) return null;
    let segments = await this.catalog.forWorkspace(workspaceId);
    if ((segments.byId.get(segmentId)?.version ?? -1) < version) {
      this.catalog.invalidate(workspaceId);
      segments = await this.catalog.forWorkspace(workspaceId);
    }
    return segments.byId.get(segmentId)?.version === version ? segments : null;
  }
}

/** A run's progress before its first page. */
const firstProgress = (version: number): BackfillProgress => ({
  version,
  status: 'running',
  total: 0,
  processed: 0,
  entered: 0,
  exited: 0,
  startedAt: new Date(),
  profilesPerSecond: 0,
});
