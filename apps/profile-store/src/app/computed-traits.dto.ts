import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateBy, ValidateIf } from 'class-validator';
import { safeKey } from '@cdp/cleaning';
import { trimmedString } from '@cdp/platform';
import { AGGREGATIONS, type Aggregation } from './user-computed-traits';

export const MAX_WINDOW_DAYS = 365;
/** Computed-trait names: safe as field names and distinct from the built-in ones by convention. */
export const TRAIT_NAME = /^[a-z][a-z0-9_]{0,63}$/;
export const BUILT_IN_NAMES = ['first_seen', 'last_seen', 'event_count', 'revenue'];

export class ComputedTraitBody {
  @ApiProperty({ example: 'Order Completed', description: 'The track event aggregated.' })
  // Trimmed as the normalizer trims event names: "Order Completed " would match no event, ever.
  @Transform(trimmedString)
  @IsString()
  @MinLength(1, { message: 'event must not be empty' })
  @MaxLength(200, { message: 'event must be at most 200 characters' })
  event!: string;

  @ApiProperty({ enum: AGGREGATIONS })
  @IsIn(AGGREGATIONS, { message: `aggregation must be one of ${AGGREGATIONS.join(', ')}` })
  aggregation!: Aggregation;

  @ApiPropertyOptional({
    example: 'total',
    description: "Top-level event property as stored (no '.', not starting with '$'); required except for count, which takes none.",
  })
  // null is "no property" (what GET answers for count), so a definition read back can be put again.
  @ValidateIf((o: ComputedTraitBody) => o.aggregation !== 'count' || (o.property !== undefined && o.property !== null))
  @ValidateBy({
    name: 'noPropertyForCount',
    validator: {
      // count adds up events (contribution ignores the property): a property would filter nothing.
      validate: (_v: unknown, args) => (args?.object as ComputedTraitBody).aggregation !== 'count',
      defaultMessage: () => 'count takes no property: it counts every event named by event',
    },
  })
  @IsString({ message: 'property must name a top-level event property (a string); only count takes none' })
  @MinLength(1, { message: 'property must not be empty' })
  @MaxLength(200, { message: 'property must be at most 200 characters' })
  @ValidateBy({
    name: 'storedPropertyName',
    validator: {
      // The normalizer rewrites such keys (safeKey), so a trait on the raw name would never match.
      validate: (v: unknown) => typeof v !== 'string' || v === '' || safeKey(v) === v,
      defaultMessage: (args) =>
        `property must be a property name as stored: no '.', not starting with '$', not __proto__/constructor/prototype ` +
        `(the normalizer stores ${JSON.stringify(args?.value)} as ${JSON.stringify(safeKey(String(args?.value)))}; nested properties cannot be aggregated)`,
    },
  })
  property?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_WINDOW_DAYS, description: 'Sliding window in days (UTC days); absent: all time.' })
  @IsOptional()
  @IsInt({ message: 'windowDays must be an integer' })
  @Min(1, { message: 'windowDays must be at least 1' })
  @Max(MAX_WINDOW_DAYS, { message: `windowDays must be at most ${MAX_WINDOW_DAYS}` })
  windowDays?: number;
}

export class BackfillProgressView {
  @ApiProperty({ enum: ['waiting', 'running', 'done', 'failed'] }) status!: string;
  @ApiProperty({ description: 'Share of the timeline scanned (100 only when done).' }) percent!: number;
  @ApiProperty() eventsScanned!: number;
  @ApiProperty({ nullable: true, type: Number }) eventsTotal!: number | null;
  @ApiProperty({ description: 'Profiles whose state the backfill changed.' }) profilesUpdated!: number;
  @ApiProperty() profilesPerSecond!: number;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
}

export class ComputedTraitView {
  @ApiProperty() name!: string;
  @ApiProperty() event!: string;
  @ApiProperty({ enum: AGGREGATIONS }) aggregation!: Aggregation;
  @ApiProperty({ nullable: true, type: String }) property!: string | null;
  @ApiProperty({ nullable: true, type: Number }) windowDays!: number | null;
  @ApiProperty({ nullable: true, type: BackfillProgressView, description: 'The backfill over the stored timelines.' })
  backfill!: BackfillProgressView | null;
}

export class NameParam {
  @IsString()
  @Matches(TRAIT_NAME, { message: 'name must be lower-case letters, digits and _ (at most 64), starting with a letter' })
  name!: string;
}
