import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateBy } from 'class-validator';
import { trimmedString } from '@cdp/platform';

export const MAX_EVENTS_PAGE = 200;
/** Most trait names one `include` may list (each is one lookup; the list is for picking, not for all traits). */
export const MAX_INCLUDED_TRAITS = 100;
/** As computed-trait definitions bound the event they name. */
export const MAX_EVENT_NAME_CHARS = 200;

const toBoolean = ({ value }: { value: unknown }): unknown => (value === 'true' ? true : value === 'false' ? false : value);

/** The trait names of an `include` list: comma-separated, each trimmed, empty entries and repeats dropped. */
export const includedTraits = (text: string): string[] => [
  ...new Set(
    text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  ),
];

const ISO_TIME =
  /^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})(?:T(?<h>\d{2}):(?<mi>\d{2})(?::(?<s>\d{2})(?:\.(?<f>\d{1,9}))?)?(?:Z|(?<sign>[+-])(?<oh>\d{2}):?(?<om>\d{2})))?$/;

/**
 * Epoch milliseconds of an ISO 8601 date (`2026-11-29`, UTC midnight) or date-time with a zone
 * (`2026-11-29T20:00:00Z`, `...+01:00`), or null. Stricter than Date.parse, which takes
 * `2026-02-30` for March 2 and a time without a zone in the server's local time.
 */
export function parseIsoTime(text: string): number | null {
  const g = ISO_TIME.exec(text)?.groups;
  if (!g) return null;
  const n = (part: string): number => Number(g[part] ?? 0);
  if (n('h') > 23 || n('mi') > 59 || n('s') > 59 || n('oh') > 23 || n('om') > 59) return null;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0-99 as 1900-1999.
  date.setUTCFullYear(n('y'), n('mo') - 1, n('d'));
  // A day the month does not have rolls over: refused.
  if (date.getUTCFullYear() !== n('y') || date.getUTCMonth() !== n('mo') - 1 || date.getUTCDate() !== n('d')) return null;
  const millis = Number((g['f'] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetMinutes = (g['sign'] === '-' ? -1 : 1) * (n('oh') * 60 + n('om'));
  return date.getTime() + ((n('h') * 60 + n('mi') - offsetMinutes) * 60 + n('s')) * 1000 + millis;
}

const TIME_FORMS = 'an ISO 8601 date or date-time with a zone, e.g. 2026-11-29 or 2026-11-29T20:00:00Z (send + as %2B)';

/** `since`/`until`: a time parseIsoTime takes. */
const IsIsoTime = (param: string) =>
  ValidateBy({
    name: 'isIsoTime',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && parseIsoTime(v) !== null,
      defaultMessage: (args) => `${param} must be ${TIME_FORMS} (got ${JSON.stringify(String(args?.value)).slice(0, 60)})`,
    },
  });

export class TraitsQuery {
  /** `true` adds updatedAt, source and messageId to every trait. */
  @ApiPropertyOptional({ description: 'true adds updatedAt, source and messageId to every trait.' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'verbose must be true or false' })
  verbose?: boolean;

  @ApiPropertyOptional({
    description:
      `Only these traits: comma-separated names (at most ${MAX_INCLUDED_TRAITS}), e.g. plan,country. ` +
      'A name the profile has no trait of is absent from the answer.',
    example: 'plan,country',
  })
  @IsOptional()
  // An array is a repeated parameter: refused, the list is one comma-separated value.
  @IsString({ message: 'include must be one comma-separated list of trait names, e.g. include=plan,country' })
  @ValidateBy({
    name: 'traitNameList',
    validator: {
      validate: (v: unknown) => typeof v !== 'string' || (includedTraits(v).length > 0 && includedTraits(v).length <= MAX_INCLUDED_TRAITS),
      defaultMessage: (args) =>
        includedTraits(String(args?.value)).length === 0
          ? 'include must name at least one trait, e.g. include=plan,country'
          : `include names ${includedTraits(String(args?.value)).length} traits; at most ${MAX_INCLUDED_TRAITS}`,
    },
  })
  include?: string;
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

  @ApiPropertyOptional({
    description:
      'Only the events of this name: track events whose `event` is it, and page and screen calls whose `name` is it ' +
      '(identify, group and alias calls have no name and never match). Exact, case-sensitive.',
    example: 'Order Completed',
    maxLength: MAX_EVENT_NAME_CHARS,
  })
  @IsOptional()
  // Stored names are trimmed, so an untrimmed one could never match.
  @Transform(trimmedString)
  @IsString({ message: 'event must be one event name' })
  @MinLength(1, { message: 'event must not be empty' })
  @MaxLength(MAX_EVENT_NAME_CHARS, { message: `event must be at most ${MAX_EVENT_NAME_CHARS} characters` })
  event?: string;

  @ApiPropertyOptional({
    description: 'Only events at or after this time (event timestamp, inclusive): ISO 8601 date, or date-time with a zone.',
    format: 'date-time',
    example: '2026-11-01T00:00:00Z',
  })
  @IsOptional()
  @IsIsoTime('since')
  since?: string;

  @ApiPropertyOptional({
    description: 'Only events before this time (event timestamp, exclusive): ISO 8601 date, or date-time with a zone.',
    format: 'date-time',
    example: '2026-12-01T00:00:00Z',
  })
  @IsOptional()
  @IsIsoTime('until')
  until?: string;
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
