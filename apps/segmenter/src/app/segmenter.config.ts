import { Transform } from 'class-transformer';
import { IsInt, Min } from 'class-validator';
import { PlatformConfig } from '@cdp/platform';

export class SegmenterConfig extends PlatformConfig {
  /** How long a workspace's compiled definitions are reused before reloading (other instances may have written). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  SEGMENT_CACHE_TTL_MS = 10_000;
}
