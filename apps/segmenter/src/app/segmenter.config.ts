import { Transform } from 'class-transformer';
import { IsInt, Min } from 'class-validator';
import { PlatformConfig } from '@cdp/platform';

export class SegmenterConfig extends PlatformConfig {
  /**
   * How long a workspace's compiled definitions are reused before reloading (other instances may
   * have written); so also how long a backfill and a deletion wait before they read (see README).
   */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  SEGMENT_CACHE_TTL_MS = 10_000;

  /** How often the timer looks for due windowed memberships when none was due. */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(10)
  SEGMENT_TIMER_INTERVAL_MS = 1_000;

  /** How long a claimed schedule entry is reserved for one instance (then another may retry it). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1_000)
  SEGMENT_TIMER_LEASE_MS = 30_000;

  /**
   * A running backfill whose progress has not been written for this long is taken for one whose
   * instance stopped, and started again (by one instance); checked every half of it.
   */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(100)
  SEGMENT_BACKFILL_STALE_MS = 60_000;

  /** Profiles per backfill batch. */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  SEGMENT_BACKFILL_BATCH = 500;

  /** How often every workspace's predictions are recomputed; 0 turns the schedule off (POST /v1/predictions/run still works). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  SEGMENTER_PREDICTIONS_INTERVAL_MS = 6 * 60 * 60 * 1000;

  /** A customer has churned after this many days without an order (the churn model's label). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  SEGMENTER_PREDICTIONS_HORIZON_DAYS = 30;
}
