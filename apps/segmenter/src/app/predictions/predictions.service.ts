import { Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { predictWorkspace, type CustomerHistory, type PredictionReport } from '@cdp/predictions';
import { SegmentEventsRepository } from '../history/segment-events.repository';
import { SegmentProfilesRepository } from '../history/segment-profiles.repository';
import { parseTraits } from '../membership/transition';
import { historyOf, ORDER_EVENT } from './order-histories';
import { PredictedSegmentsRefresher } from './predicted-segments.refresher';
import { PredictionReportsRepository } from './prediction-reports.repository';
import { PredictionWorkspacesRepository } from './prediction-workspaces.repository';
import { SegmentPredictionsRepository } from './segment-predictions.repository';
import { SegmenterConfig } from '../segmenter.config';

/** Snapshots read per page (and their order histories per query batch). */
const PAGE = 500;

export interface PredictionRun {
  workspaceId: string;
  startedAt: number;
  finishedAt: number;
  /** Profiles given predictions. */
  predicted: number;
  /** Segments re-evaluated because they read a predicted trait. */
  refreshedSegments: string[];
  report: PredictionReport;
}

/**
 * Computes RFM scores, churn risk and behavioural clusters per workspace from the segmenter's own
 * snapshots and order history (see @cdp/predictions), stores them per profile with a model report,
 * and re-evaluates the segments that read them. Runs on SEGMENTER_PREDICTIONS_INTERVAL_MS and on
 * demand; one run per workspace at a time in this instance.
 */
@Injectable()
export class PredictionsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PredictionsService.name);
  private readonly running = new Map<string, Promise<PredictionRun>>();
  private timer: NodeJS.Timeout | null = null;
  private sweep: Promise<void> | null = null;

  constructor(
    private readonly config: SegmenterConfig,
    private readonly profiles: SegmentProfilesRepository,
    private readonly events: SegmentEventsRepository,
    private readonly predictions: SegmentPredictionsRepository,
    private readonly reports: PredictionReportsRepository,
    private readonly workspaces: PredictionWorkspacesRepository,
    @Optional() private readonly refresher?: PredictedSegmentsRefresher,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.SEGMENTER_PREDICTIONS_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => {
      if (!this.sweep) this.sweep = this.runAll().finally(() => (this.sweep = null));
    }, this.config.SEGMENTER_PREDICTIONS_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweep;
    await Promise.allSettled([...this.running.values()]);
  }

  /** Every workspace with snapshots, one after the other (keeps the load of a sweep to one core). */
  async runAll(): Promise<void> {
    for (const workspaceId of await this.workspaces.workspaces()) {
      try {
        await this.run(workspaceId);
      } catch (e) {
        this.logger.error(`predictions for workspace ${workspaceId} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Runs the workspace's predictions now, or joins the run in progress. */
  run(workspaceId: string, asOf = Date.now()): Promise<PredictionRun> {
    const current = this.running.get(workspaceId);
    if (current) return current;
    const job = this.compute(workspaceId, asOf).finally(() => this.running.delete(workspaceId));
    this.running.set(workspaceId, job);
    return job;
  }

  report(workspaceId: string) {
    return this.reports.latest(workspaceId);
  }

  private async compute(workspaceId: string, asOf: number): Promise<PredictionRun> {
    const startedAt = Date.now();
    const histories = await this.histories(workspaceId);
    const { predictions, report } = predictWorkspace(histories, asOf, {
      churn: { horizonDays: this.config.SEGMENTER_PREDICTIONS_HORIZON_DAYS },
    });
    await this.predictions.replaceAll(workspaceId, predictions, asOf);
    const finishedAt = Date.now();
    await this.reports.save(workspaceId, report, startedAt, finishedAt);
    const refreshedSegments = this.refresher ? await this.refresher.refresh(workspaceId) : [];
    this.logger.log(
      `predictions for workspace ${workspaceId}: ${predictions.length} customers of ${histories.length} profiles, churn model ${report.churn.status}, ${finishedAt - startedAt} ms`,
    );
    return { workspaceId, startedAt, finishedAt, predicted: predictions.length, refreshedSegments, report };
  }

  /** Every live profile's order history, paged by profile id. */
  private async histories(workspaceId: string): Promise<CustomerHistory[]> {
    const out: CustomerHistory[] = [];
    for await (const page of this.profiles.pages(workspaceId, PAGE)) {
      const ids = page.map((p) => p.profileId);
      const events = await this.events.forProfiles(workspaceId, ids, [ORDER_EVENT]);
      for (const p of page) out.push(historyOf(p.profileId, parseTraits(p.traits) ?? {}, events.get(p.profileId) ?? []));
    }
    return out;
  }
}
