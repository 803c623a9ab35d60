import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Counter } from 'prom-client';
import { Metrics } from '@cdp/platform';
import { ProfileSettingsRepository } from './profile-settings.repository';
import { ProfileStoreConfig } from './profile-store.config';
import { TimelineRepository } from './timeline.repository';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Entries deleted per command, and commands per sweep run: bounds one run's load (the rest waits for the next). */
export const SWEEP_BATCH = 500;
export const SWEEP_MAX_BATCHES = 200;

/** The retention each workspace gets: its own setting, else the default (0: keep forever). */
export function retentionPlan(
  defaultDays: number,
  overrides: readonly { workspaceId: string; timelineRetentionDays: number }[],
): { workspaceId: string | null; days: number; except: string[] }[] {
  const plan: { workspaceId: string | null; days: number; except: string[] }[] = overrides
    .filter((o) => o.timelineRetentionDays > 0)
    .map((o) => ({ workspaceId: o.workspaceId, days: o.timelineRetentionDays, except: [] }));
  if (defaultDays > 0) plan.push({ workspaceId: null, days: defaultDays, except: overrides.map((o) => o.workspaceId) });
  return plan;
}

/** Deletes timeline entries older than the workspace's retention, on an interval, in bounded batches. */
@Injectable()
export class TimelineSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TimelineSweeper.name);
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private readonly swept: Counter;

  constructor(
    private readonly config: ProfileStoreConfig,
    private readonly timeline: TimelineRepository,
    private readonly settings: ProfileSettingsRepository,
    metrics: Metrics,
  ) {
    this.swept = new Counter({
      name: 'cdp_profile_timeline_swept_total',
      help: 'Timeline entries deleted by the retention sweep.',
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    const seconds = this.config.PROFILE_TIMELINE_SWEEP_INTERVAL_SECONDS;
    if (seconds <= 0) return;
    this.timer = setInterval(() => void this.sweep(), seconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One run; overlapping runs are skipped. Returns how many entries it deleted. */
  async sweep(now = Date.now()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let deleted = 0;
    try {
      const plan = retentionPlan(this.config.PROFILE_TIMELINE_RETENTION_DAYS, await this.settings.all());
      let batches = 0;
      for (const step of plan) {
        const before = now - step.days * DAY_MS;
        while (batches < SWEEP_MAX_BATCHES) {
          batches++;
          const n = await this.timeline.sweepBatch(step.workspaceId, step.except, before, SWEEP_BATCH);
          deleted += n;
          this.swept.inc(n);
          if (n < SWEEP_BATCH) break;
        }
      }
      if (deleted > 0) this.logger.log(`timeline retention sweep deleted ${deleted} entries`);
    } catch (e) {
      this.logger.warn(`timeline retention sweep failed: ${(e as Error).message}`);
    } finally {
      this.sweeping = false;
    }
    return deleted;
  }
}
