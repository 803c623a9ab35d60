import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiKeyGuard, RequireScope, WorkspaceId, Audit } from '@cdp/access';
import {
  eventsRead,
  printSegment,
  readDefinition,
  SEGMENT_DEFINITION_SCHEMA,
  segmentsRead,
  traitsRead,
  type Condition,
} from '@cdp/segment-language';
import { MembershipsRepository } from '../membership/memberships.repository';
import { SegmentSizesRepository } from '../sizes/segment-sizes.repository';
import { SegmentDefinitionPublisher } from '../output/segment-definitions.publisher';
import { outputTopicProblem, SegmentTopics } from '../output/segment-topics';
import type { SizeDay } from '../sizes/size-history';
import { BackfillService } from './backfill.service';
import { historyWarnings } from './history-warnings';
import { PreviewService } from './preview.service';
import { readersOf, resolveReferences } from './segment-references';
import { MembersQuery, PreviewBody, SegmentBody, SizeHistoryQuery } from './segment.dto';
import {
  MembersPageDto,
  newSegmentId,
  pageSize,
  PreviewDto,
  SegmentBadRequestDto,
  SegmentListDto,
  SegmentViewDto,
  SegmentWrittenDto,
  SizeHistoryDto,
  toView,
  type SegmentView,
} from './segment-view';
import { SegmentCatalog } from './segment-catalog';
import { SegmentRemoval } from './segment-removal';
import { SegmentsRepository } from './segments.repository';

/** Reads a definition or answers 400 with the parser's offset or the validator's paths. */
function definitionOrBadRequest(input: unknown): { definition: Condition; text: string } {
  const result = readDefinition(input);
  if (!result.ok) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: `invalid definition: ${result.message}`,
      offset: result.offset,
      issues: result.issues,
    });
  }
  return { definition: result.definition, text: result.text };
}

const badRequest = (message: string) =>
  new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `invalid definition: ${message}` });

const ID_PARAM = { name: 'id', description: 'The segment id (seg_...).' };
const NOT_FOUND = { description: 'No such segment in the workspace of the key.' };
/** What a body's 400 covers (the definition's parser offset or validator paths are in the answer). */
const INVALID_BODY =
  'Invalid or unknown field, or a definition the parser or validator refused (with `offset` or `issues`) ' +
  'or that names an unknown or ambiguous segment';

@ApiTags('segments')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or an unknown API key.' })
@ApiForbiddenResponse({ description: 'The key lacks the scope of the route.' })
@Controller('v1/segments')
@UseGuards(ApiKeyGuard)
@UsePipes(new DtoValidationPipe())
export class SegmentsController {
  constructor(
    private readonly segments: SegmentsRepository,
    private readonly memberships: MembershipsRepository,
    private readonly catalog: SegmentCatalog,
    private readonly backfill: BackfillService,
    private readonly previews: PreviewService,
    private readonly sizes: SegmentSizesRepository,
    private readonly topics: SegmentTopics,
    private readonly removal: SegmentRemoval,
    private readonly definitions: SegmentDefinitionPublisher,
  ) {}

  /**
   * The stored fields of a body (of segment `selfId`), once the body is known good (400) and its
   * name free (409); its outputTopic is created (and its schema registered) before anything is stored.
   */
  private async fields(workspaceId: string, selfId: string, body: SegmentBody, read: { definition: Condition; text: string }) {
    const problem = body.outputTopic === undefined ? null : outputTopicProblem(body.outputTopic);
    if (problem) throw new BadRequestException(problem);
    await this.nameFree(workspaceId, body.name, selfId);
    if (body.outputTopic !== undefined) await this.topics.ensure(body.outputTopic);
    return { name: body.name, ...read, outputTraits: body.outputTraits ?? [], outputTopic: body.outputTopic ?? null };
  }

  /**
   * Names are how people (and `segment('<name>')`) tell segments apart, so one name is one segment.
   * Checked, not indexed: two concurrent writes could still share a name, which references then
   * refuse as ambiguous.
   */
  private async nameFree(workspaceId: string, name: string, selfId: string): Promise<void> {
    const other = await this.segments.namedOtherThan(workspaceId, name, selfId);
    if (other) throw new ConflictException(`segment ${other} is already named '${name}'; segment names are unique in a workspace`);
  }

  /**
   * Reads the definition and resolves its segment references to ids (text re-printed with
   * them), refusing unknown names and cycles. Two concurrent writes could still close a cycle;
   * evaluation then breaks it at an arbitrary point rather than loop.
   */
  private async resolved(workspaceId: string, selfId: string, input: unknown): Promise<{ definition: Condition; text: string }> {
    const read = definitionOrBadRequest(input);
    if (segmentsRead(read.definition).length === 0) return read;
    const result = resolveReferences(selfId, read.definition, await this.segments.list(workspaceId));
    if (!result.ok) throw badRequest(result.message);
    return { definition: result.definition, text: printSegment(result.definition) };
  }

  @Post()
  @Audit('segment.create')
  @RequireScope('write:segments')
  @ApiOperation({
    summary: 'Create a segment (scope write:segments)',
    description:
      'Evaluated on every profile change from now on; a backfill over the stored profiles starts at once (progress in `backfill`). ' +
      'An `outputTopic` is created, and its schema registered, before the segment is stored.',
  })
  @ApiCreatedResponse({ type: SegmentWrittenDto })
  @ApiBadRequestResponse({
    type: SegmentBadRequestDto,
    description: `${INVALID_BODY}, closes a reference cycle, or an outputTopic that is not allowed (a platform topic).`,
  })
  @ApiConflictResponse({ description: 'Another segment has the name.' })
  async create(@WorkspaceId() workspaceId: string, @Body() body: SegmentBody): Promise<SegmentView & { warnings: string[] }> {
    const segmentId = newSegmentId();
    const read = await this.resolved(workspaceId, segmentId, body.definition);
    const warnings = historyWarnings(read.definition, await this.segments.list(workspaceId));
    const doc = await this.segments.create(workspaceId, segmentId, await this.fields(workspaceId, segmentId, body, read), new Date());
    this.catalog.invalidate(workspaceId);
    this.definitions.changed();
    const backfill = await this.backfill.start(workspaceId, segmentId, doc.version);
    return { ...toView(backfill ? { ...doc, backfill } : doc), warnings };
  }

  @Get()
  @RequireScope('read:segments')
  @ApiOperation({ summary: "The workspace's segments, with their backfill progress" })
  @ApiOkResponse({ type: SegmentListDto })
  async list(@WorkspaceId() workspaceId: string): Promise<{ items: SegmentView[] }> {
    return { items: (await this.segments.list(workspaceId)).map(toView) };
  }

  /** The JSON Schema of the definition AST (declared before `:id` so that it is not read as a segment id). */
  @Get('schema')
  @RequireScope('read:segments')
  @ApiOperation({
    summary: 'The JSON Schema (draft-07) of the definition AST',
    description:
      'The same schema as the SegmentDefinition component of this document, in JSON Schema draft-07 (for a client-side validator).',
  })
  @ApiOkResponse({ description: 'A JSON Schema draft-07 document.', schema: { type: 'object', additionalProperties: true } })
  schema(): typeof SEGMENT_DEFINITION_SCHEMA {
    return SEGMENT_DEFINITION_SCHEMA;
  }

  /** Counts (and samples) the profiles a draft definition matches now, without saving it. */
  @Post('preview')
  @HttpCode(200)
  @RequireScope('read:segments')
  @ApiOperation({
    summary: 'Count and sample the profiles a draft definition matches now, without saving it',
    description: 'Evaluates the draft on every stored profile of the workspace (a full scan) and answers once it is done.',
  })
  @ApiOkResponse({ type: PreviewDto })
  @ApiBadRequestResponse({ type: SegmentBadRequestDto, description: `${INVALID_BODY}.` })
  async preview(
    @WorkspaceId() workspaceId: string,
    @Body() body: PreviewBody,
  ): Promise<{
    definition: Condition;
    text: string;
    traitsRead: string[];
    eventsRead: string[];
    count: number;
    total: number;
    sample: string[];
  }> {
    const { definition, text } = await this.resolved(workspaceId, '', body.definition);
    const result = await this.previews.preview(workspaceId, definition);
    return { definition, text, traitsRead: traitsRead(definition), eventsRead: eventsRead(definition), ...result };
  }

  @Get(':id')
  @RequireScope('read:segments')
  @ApiOperation({ summary: 'A segment, with its backfill progress' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SegmentViewDto })
  @ApiNotFoundResponse(NOT_FOUND)
  async get(@WorkspaceId() workspaceId: string, @Param('id') id: string): Promise<SegmentView> {
    const doc = await this.segments.get(workspaceId, id);
    if (!doc) throw new NotFoundException(`segment ${id} not found`);
    return toView(doc);
  }

  @Put(':id')
  @Audit('segment.update')
  @RequireScope('write:segments')
  @ApiOperation({
    summary: 'Replace a segment (scope write:segments)',
    description: 'Same body as POST (an absent outputTraits or outputTopic clears it); bumps `version` and starts a backfill at it.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SegmentWrittenDto })
  @ApiBadRequestResponse({
    type: SegmentBadRequestDto,
    description: `${INVALID_BODY}, closes a reference cycle, or an outputTopic that is not allowed (a platform topic).`,
  })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ description: 'The segment is being deleted, or another segment has the name.' })
  async update(
    @WorkspaceId() workspaceId: string,
    @Param('id') id: string,
    @Body() body: SegmentBody,
  ): Promise<SegmentView & { warnings: string[] }> {
    const existing = await this.segments.get(workspaceId, id);
    if (!existing) throw new NotFoundException(`segment ${id} not found`);
    if (existing.deleting) throw new ConflictException(`segment ${id} is being deleted`);
    const read = await this.resolved(workspaceId, id, body.definition);
    // Its own previous version counts too: what it read is kept already.
    const warnings = historyWarnings(read.definition, await this.segments.list(workspaceId));
    // Null also when a DELETE began meanwhile: its members are exiting, and its tombstone must stay the last word.
    const doc = await this.segments.update(workspaceId, id, await this.fields(workspaceId, id, body, read), new Date());
    if (!doc) throw new NotFoundException(`segment ${id} not found`);
    this.catalog.invalidate(workspaceId);
    this.definitions.changed();
    const backfill = await this.backfill.start(workspaceId, id, doc.version);
    return { ...toView(backfill ? { ...doc, backfill } : doc), warnings };
  }

  @Delete(':id')
  @Audit('segment.delete')
  @HttpCode(204)
  @RequireScope('write:segments')
  @ApiOperation({
    summary: 'Delete a segment (scope write:segments)',
    description:
      'Answers once every member has exited (an `exited` change each), its memberships and counters are removed and ' +
      'its tombstone is on cdp.segments.definitions.v1: ' +
      'at least SEGMENT_CACHE_TTL_MS, longer for a large segment. A DELETE that failed half-way can be repeated.',
  })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted; every member exited.' })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ description: 'Another segment reads it (segment(...)); change those first.' })
  async remove(@WorkspaceId() workspaceId: string, @Param('id') id: string): Promise<void> {
    const readers = readersOf(id, await this.segments.list(workspaceId));
    // Named like the profile-store's computed-trait 409: `<name> (<id>)`, names for people, ids to act on.
    if (readers.length > 0)
      throw new ConflictException(
        `segment ${id} is read by ${readers.map((r) => `${r.name} (${r.segmentId})`).join(', ')}; change those first`,
      );
    // Marked first (no evaluation here enters anyone meanwhile), removed last: a DELETE that fails
    // half-way can be repeated, and exits the members left.
    const segment = await this.segments.markDeleting(workspaceId, id);
    if (!segment) throw new NotFoundException(`segment ${id} not found`);
    this.catalog.invalidate(workspaceId);
    await this.removal.remove({ ...segment, workspaceId });
    await this.definitions.retract(workspaceId, id);
    await this.segments.remove(workspaceId, id);
  }

  /** Members at the end of each UTC day (default the last 30, from its creation on), from per-day transition counters. */
  @Get(':id/size-history')
  @RequireScope('read:segments')
  @ApiOperation({ summary: 'Members at the end of each UTC day, with the entries and exits of the day' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SizeHistoryDto })
  @ApiBadRequestResponse({ type: SegmentBadRequestDto, description: '`days` is not an integer in 1..366, or an unknown parameter.' })
  @ApiNotFoundResponse(NOT_FOUND)
  async sizeHistory(
    @WorkspaceId() workspaceId: string,
    @Param('id') id: string,
    @Query() query: SizeHistoryQuery,
  ): Promise<{ items: SizeDay[] }> {
    const segment = await this.segments.get(workspaceId, id);
    if (!segment) throw new NotFoundException(`segment ${id} not found`);
    // From the day it was created: before that it had no size, not a size of 0.
    return { items: await this.sizes.history(workspaceId, id, query.days ?? 30, Date.now(), segment.createdAt.getTime()) };
  }

  @Get(':id/members')
  @RequireScope('read:segments')
  @ApiOperation({ summary: "A page of the segment's current members, by profile id" })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: MembersPageDto })
  @ApiBadRequestResponse({
    type: SegmentBadRequestDto,
    description: '`limit` is not an integer in 1..1000, `after` is empty or longer than 512, or an unknown parameter.',
  })
  @ApiNotFoundResponse(NOT_FOUND)
  async members(
    @WorkspaceId() workspaceId: string,
    @Param('id') id: string,
    @Query() query: MembersQuery,
  ): Promise<{ items: { profileId: string; membershipVersion: number; since: string }[]; next: string | null }> {
    if (!(await this.segments.get(workspaceId, id))) throw new NotFoundException(`segment ${id} not found`);
    const limit = pageSize(query.limit);
    const docs = await this.memberships.members(workspaceId, id, query.after, limit);
    return {
      items: docs.map((d) => ({ profileId: d.profileId, membershipVersion: d.membershipVersion, since: d.updatedAt.toISOString() })),
      next: docs.length === limit ? (docs[docs.length - 1]?.profileId ?? null) : null,
    };
  }
}
