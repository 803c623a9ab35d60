import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const MAX_EVENTS_PAGE = 200;

const toBoolean = ({ value }: { value: unknown }): unknown => (value === 'true' ? true : value === 'false' ? false : value);

export class TraitsQuery {
  /** `true` adds updatedAt, source and messageId to every trait. */
  @ApiPropertyOptional({ description: 'true adds updatedAt, source and messageId to every trait.' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'verbose must be true or false' })
  verbose?: boolean;
}

export class EventsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_EVENTS_PAGE, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(MAX_EVENTS_PAGE, { message: `limit must be at most ${MAX_EVENTS_PAGE}` })
  limit?: number;

  /** `next` of the previous page. */
  @ApiPropertyOptional({ description: '`next` of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  cursor?: string;
}

// Response shapes, for the OpenAPI document.

export class IdentifierDto {
  @ApiProperty({ example: 'email' }) type!: string;
  @ApiProperty({ example: 'jane@example.com' }) value!: string;
  @ApiProperty({ format: 'date-time' }) firstSeen!: string;
  @ApiProperty({ format: 'date-time' }) lastSeen!: string;
}

export class AccountDto {
  @ApiProperty({ example: 'acme' }) groupId!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "The group's traits from its newest group call.",
    example: { name: 'Acme Inc', plan: 'enterprise' },
  })
  traits!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) firstSeen!: string;
  @ApiProperty({ format: 'date-time' }) lastSeen!: string;
}

export class ProfileStatsDto {
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) firstSeen!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastSeen!: string | null;
  @ApiProperty() eventCount!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, description: 'Event counts by event name.' })
  eventCounts!: Record<string, number>;
  @ApiProperty({ description: 'Revenue sum in millionths.' }) revenueMicros!: number;
}

export class ProfileDto {
  @ApiProperty({ description: 'The canonical profile id (a survivor for an absorbed id).' }) profileId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { plan: 'pro', country: 'DE' } }) traits!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'first_seen, last_seen, event_count, revenue.' })
  computedTraits!: Record<string, unknown>;
  @ApiProperty({ type: [IdentifierDto] }) identifiers!: IdentifierDto[];
  @ApiProperty({ type: [AccountDto], description: 'The groups (accounts) its group calls named: relations, not merges.' })
  accounts!: AccountDto[];
  @ApiProperty({ type: ProfileStatsDto }) stats!: ProfileStatsDto;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class TraitsDto {
  @ApiProperty() profileId!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Plain values, or {value, updatedAt, source, messageId} with verbose=true.',
  })
  traits!: Record<string, unknown>;
}

export class IdentitiesDto {
  @ApiProperty() profileId!: string;
  @ApiProperty({ type: [IdentifierDto] }) identifiers!: IdentifierDto[];
  @ApiProperty({ type: [String] }) absorbedProfileIds!: string[];
}

export class TimelineEventDto {
  @ApiProperty() messageId!: string;
  @ApiProperty({ description: 'The profile id the event was applied to (may be an absorbed id).' }) profileId!: string;
  @ApiProperty({ example: 'track' }) type!: string;
  @ApiProperty({ nullable: true, type: String }) event!: string | null;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ nullable: true, type: String }) sourceId!: string | null;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiProperty({ format: 'date-time' }) receivedAt!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) properties!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) traits!: Record<string, unknown>;
}

export class EventsPageDto {
  @ApiProperty() profileId!: string;
  @ApiProperty({ type: [TimelineEventDto], description: 'Newest first.' }) events!: TimelineEventDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Cursor of the next page; null on the last.' }) next!: string | null;
}

export class SegmentMembershipDto {
  @ApiProperty() segmentId!: string;
  @ApiProperty() segmentName!: string;
  @ApiProperty() membershipVersion!: number;
  @ApiProperty({ format: 'date-time' }) since!: string;
}

export class SegmentsDto {
  @ApiProperty() profileId!: string;
  @ApiProperty({ type: [SegmentMembershipDto] }) segments!: SegmentMembershipDto[];
}

export class ErasedDto {
  @ApiProperty() profileId!: string;
  @ApiProperty({ example: true }) erased!: boolean;
}

export class SearchPageDto {
  @ApiProperty({ type: [ProfileDto] }) profiles!: ProfileDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Cursor of the next page; null on the last.' }) next!: string | null;
}

export class ExportTimelineDto {
  @ApiProperty({ type: [TimelineEventDto] }) events!: TimelineEventDto[];
  @ApiProperty({ description: 'True when the timeline held more than `limit` events (the newest are exported).' }) truncated!: boolean;
  @ApiProperty() limit!: number;
}

export class ExportMembershipDto {
  @ApiProperty() segmentId!: string;
  @ApiProperty() segmentName!: string;
  @ApiProperty({ description: 'false: a past membership the segmenter reported ended.' }) member!: boolean;
  @ApiProperty() membershipVersion!: number;
  @ApiProperty({ format: 'date-time' }) changedAt!: string;
  @ApiProperty() profileId!: string;
}

export class RemovedIdentifierDto {
  @ApiProperty() type!: string;
  @ApiProperty() value!: string;
  @ApiProperty({ format: 'date-time' }) removedAt!: string;
}

export class ExportDto {
  @ApiProperty({ format: 'date-time' }) exportedAt!: string;
  @ApiProperty() workspaceId!: string;
  @ApiProperty({ type: ProfileDto }) profile!: ProfileDto;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Every trait with value, updatedAt, source, messageId.' })
  traits!: Record<string, unknown>;
  @ApiProperty({ type: [IdentifierDto] }) identifiers!: IdentifierDto[];
  @ApiProperty({
    type: [RemovedIdentifierDto],
    description: 'Identifiers taken off the person, kept so late events cannot bring them back.',
  })
  removedIdentifiers!: RemovedIdentifierDto[];
  @ApiProperty({ type: [String] }) absorbedProfileIds!: string[];
  @ApiProperty({ type: ExportTimelineDto }) timeline!: ExportTimelineDto;
  @ApiProperty({ type: [ExportMembershipDto] }) segments!: ExportMembershipDto[];
}
