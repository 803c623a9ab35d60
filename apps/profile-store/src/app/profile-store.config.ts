import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { PlatformConfig } from '@cdp/platform';

export class ProfileStoreConfig extends PlatformConfig {
  /** Days after an erasure during which late events for the erased profile ids and identifiers are dropped (0: none). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(3650)
  PROFILE_ERASURE_SUPPRESSION_DAYS = 30;

  /** Default days a timeline entry is kept (by event timestamp); a workspace may set its own (0: forever). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(36500)
  PROFILE_TIMELINE_RETENTION_DAYS = 365;

  /** Seconds between two retention sweeps of the timeline (0: no sweep). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  PROFILE_TIMELINE_SWEEP_INTERVAL_SECONDS = 3600;
}
