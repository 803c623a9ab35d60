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
}
