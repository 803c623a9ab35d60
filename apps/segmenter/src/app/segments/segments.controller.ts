import {
  BadRequestException,
  Body,
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
  ValidationPipe,
} from '@nestjs/common';
import { ApiKeyGuard, RequireScope, WorkspaceId } from '@cdp/access';
import { readDefinition, traitsRead, type Condition } from '@cdp/segment-language';
import { MembershipsRepository } from '../membership/memberships.repository';
import { MembersQuery, PreviewBody, SegmentBody } from './segment.dto';
import { newSegmentId, pageSize, toView, type SegmentView } from './segment-view';
import { SegmentCatalog } from './segment-catalog';
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

@Controller('v1/segments')
@UseGuards(ApiKeyGuard)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class SegmentsController {
  constructor(
    private readonly segments: SegmentsRepository,
    private readonly memberships: MembershipsRepository,
    private readonly catalog: SegmentCatalog,
  ) {}

  @Post()
  @RequireScope('write:segments')
  async create(@WorkspaceId() workspaceId: string, @Body() body: SegmentBody): Promise<SegmentView> {
    const { definition, text } = definitionOrBadRequest(body.definition);
    const doc = await this.segments.create(workspaceId, newSegmentId(), { name: body.name, definition, text }, new Date());
    this.catalog.invalidate(workspaceId);
    return toView(doc);
  }

  @Get()
  @RequireScope('read:segments')
  async list(@WorkspaceId() workspaceId: string): Promise<{ items: SegmentView[] }> {
    return { items: (await this.segments.list(workspaceId)).map(toView) };
  }

  /** Validates a definition and tells what it reads; counting matching profiles comes later. */
  @Post('preview')
  @HttpCode(200)
  @RequireScope('read:segments')
  preview(@Body() body: PreviewBody): { definition: Condition; text: string; traitsRead: string[]; count: null } {
    const { definition, text } = definitionOrBadRequest(body.definition);
    return { definition, text, traitsRead: traitsRead(definition), count: null };
  }

  @Get(':id')
  @RequireScope('read:segments')
  async get(@WorkspaceId() workspaceId: string, @Param('id') id: string): Promise<SegmentView> {
    const doc = await this.segments.get(workspaceId, id);
    if (!doc) throw new NotFoundException(`segment ${id} not found`);
    return toView(doc);
  }

  @Put(':id')
  @RequireScope('write:segments')
  async update(@WorkspaceId() workspaceId: string, @Param('id') id: string, @Body() body: SegmentBody): Promise<SegmentView> {
    const { definition, text } = definitionOrBadRequest(body.definition);
    const doc = await this.segments.update(workspaceId, id, { name: body.name, definition, text }, new Date());
    if (!doc) throw new NotFoundException(`segment ${id} not found`);
    this.catalog.invalidate(workspaceId);
    return toView(doc);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('write:segments')
  async remove(@WorkspaceId() workspaceId: string, @Param('id') id: string): Promise<void> {
    if (!(await this.segments.remove(workspaceId, id))) throw new NotFoundException(`segment ${id} not found`);
    this.catalog.invalidate(workspaceId);
    await this.memberships.removeSegment(workspaceId, id);
  }

  @Get(':id/members')
  @RequireScope('read:segments')
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
