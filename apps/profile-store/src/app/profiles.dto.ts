import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const MAX_EVENTS_PAGE = 200;

const toBoolean = ({ value }: { value: unknown }): unknown => (value === 'true' ? true : value === 'false' ? false : value);

export class TraitsQuery {
  /** `true` adds updatedAt, source and messageId to every trait. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'verbose must be true or false' })
  verbose?: boolean;
}

export class EventsQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(MAX_EVENTS_PAGE, { message: `limit must be at most ${MAX_EVENTS_PAGE}` })
  limit?: number;

  /** `next` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  cursor?: string;
}
