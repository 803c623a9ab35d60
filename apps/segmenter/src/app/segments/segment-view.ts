import { randomBytes } from 'node:crypto';
import { ApiProperty, getSchemaPath } from '@nestjs/swagger';
import type { Condition } from '@cdp/segment-language';
import type { SizeDay } from '../sizes/size-history';
import { DEFINITION_COMPONENT } from './definition-schema';
import type { SegmentDocument } from './segments.repository';

export interface BackfillView {
  version: number;
  status: 'running' | 'done' | 'failed';
  percent: number;
  processed: number;
  total: number;
  entered: number;
  exited: number;
  profilesPerSecond: number;
  startedAt: string;
  finishedAt: string | null;
}

export interface SegmentView {
  id: string;
  name: string;
  version: number;
  definition: Condition;
  text: string;
  outputTraits: string[];
  outputTopic: string | null;
  backfill: BackfillView | null;
  createdAt: string;
  updatedAt: string;
}

export const toView = (d: SegmentDocument): SegmentView => ({
  id: d.segmentId,
  name: d.name,
  version: d.version ?? 1,
  definition: d.definition,
  text: d.text,
  outputTraits: d.outputTraits ?? [],
  outputTopic: d.outputTopic ?? null,
  backfill: d.backfill
    ? {
        version: d.backfill.version,
        status: d.backfill.status,
        percent:
          d.backfill.status === 'done'
            ? 100
            : d.backfill.total > 0
              ? Math.min(100, Math.floor((100 * d.backfill.processed) / d.backfill.total))
              : 0,
        processed: d.backfill.processed,
        total: d.backfill.total,
        entered: d.backfill.entered,
        exited: d.backfill.exited ?? 0,
        profilesPerSecond: d.backfill.profilesPerSecond,
        startedAt: new Date(d.backfill.startedAt).toISOString(),
        finishedAt: d.backfill.finishedAt ? new Date(d.backfill.finishedAt).toISOString() : null,
      }
    : null,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

/** A new segment id: random, URL-safe, recognisable. */
export const newSegmentId = (): string => `seg_${randomBytes(12).toString('base64url')}`;

/** Members page size: 100 unless asked, capped by the DTO at 1000. */
export const pageSize = (limit: number | undefined): number => limit ?? 100;

// Response shapes, for the OpenAPI document (each implements the type the controller returns, so they cannot drift apart).

export class BackfillViewDto implements BackfillView {
  @ApiProperty({ description: 'The definition version it evaluates.' }) version!: number;
  @ApiProperty({ enum: ['running', 'done', 'failed'] }) status!: 'running' | 'done' | 'failed';
  @ApiProperty({ minimum: 0, maximum: 100, description: 'Share of the profiles evaluated (100 once done).' }) percent!: number;
  @ApiProperty() processed!: number;
  @ApiProperty({ description: "The workspace's profiles when it started." }) total!: number;
  @ApiProperty({ description: 'Profiles this run entered.' }) entered!: number;
  @ApiProperty({ description: 'Members of an earlier version this run took out.' }) exited!: number;
  @ApiProperty() profilesPerSecond!: number;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finishedAt!: string | null;
}

export class SegmentViewDto implements SegmentView {
  @ApiProperty({ example: 'seg_3q2K8hT0bVx1mN4pLr7sYw9z' }) id!: string;
  @ApiProperty({ example: 'Germany' }) name!: string;
  @ApiProperty({ description: 'Definition version: 1 on create, +1 on each update.' }) version!: number;
  @ApiProperty({ allOf: [{ $ref: getSchemaPath(DEFINITION_COMPONENT) }], description: 'The JSON AST, segment references as ids.' })
  definition!: Condition;
  @ApiProperty({ example: "trait('country') = 'DE'", description: 'The text form, printed from the AST.' }) text!: string;
  @ApiProperty({ type: [String] }) outputTraits!: string[];
  @ApiProperty({ nullable: true, type: String }) outputTopic!: string | null;
  @ApiProperty({ nullable: true, type: BackfillViewDto, description: 'The latest backfill over the stored profiles (null: none ran).' })
  backfill!: BackfillViewDto | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class SegmentWrittenDto extends SegmentViewDto {
  @ApiProperty({
    type: [String],
    description: 'What the definition will not see: event names no segment counted before (their earlier events are not in the backfill).',
  })
  warnings!: string[];
}

export class SegmentListDto {
  @ApiProperty({ type: [SegmentViewDto] }) items!: SegmentViewDto[];
}

export class PreviewDto {
  @ApiProperty({ allOf: [{ $ref: getSchemaPath(DEFINITION_COMPONENT) }], description: 'The definition read, segment references as ids.' })
  definition!: Condition;
  @ApiProperty() text!: string;
  @ApiProperty({ type: [String], description: 'Traits it reads.' }) traitsRead!: string[];
  @ApiProperty({ type: [String], description: 'Event names it counts.' }) eventsRead!: string[];
  @ApiProperty({ description: 'Profiles it matches now.' }) count!: number;
  @ApiProperty({ description: 'Profiles evaluated (all of the workspace).' }) total!: number;
  @ApiProperty({ type: [String], maxItems: 10, description: 'Up to 10 matching profile ids.' }) sample!: string[];
}

export class MemberDto {
  @ApiProperty() profileId!: string;
  @ApiProperty({ description: 'Of its latest entry (1 the first, 3 after an exit and a re-entry, ...).' }) membershipVersion!: number;
  @ApiProperty({ format: 'date-time' }) since!: string;
}

export class MembersPageDto {
  @ApiProperty({ type: [MemberDto], description: 'By profile id.' }) items!: MemberDto[];
  @ApiProperty({ nullable: true, type: String, description: '`after` of the next page; null on the last.' }) next!: string | null;
}

export class SizeDayDto implements SizeDay {
  @ApiProperty({ example: '2024-05-01', description: 'The UTC day.' }) day!: string;
  @ApiProperty({ description: 'Members at the end of the day.' }) members!: number;
  @ApiProperty() entered!: number;
  @ApiProperty() exited!: number;
}

export class SizeHistoryDto {
  @ApiProperty({ type: [SizeDayDto], description: 'One per UTC day, oldest first, ending today.' }) items!: SizeDayDto[];
}

export class DefinitionIssueDto {
  @ApiProperty({ example: '$.of[1].cmp', description: 'Where, as a JSON path into the AST.' }) path!: string;
  @ApiProperty() message!: string;
}

/** A 400 of the segment routes: the validation pipe's messages, or a definition the parser or validator refused. */
export class SegmentBadRequestDto {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: "invalid definition: expected ')' at offset 17",
    description: 'One message, or one per invalid field.',
  })
  message!: string | string[];
  @ApiProperty({ required: false, description: 'Text form: the offset the parser stopped at.' }) offset?: number;
  @ApiProperty({ required: false, type: [DefinitionIssueDto], description: 'JSON AST: every problem the validator found.' })
  issues?: DefinitionIssueDto[];
}
