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
  Put,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { backfillView, type BackfillView } from './computed-trait-backfill';
import { BUILT_IN_NAMES, ComputedTraitBody, ComputedTraitView, NameParam } from './computed-traits.dto';
import { ComputedTraitsRepository, MAX_DEFINITIONS, type BackfillProgress } from './computed-traits.repository';
import { SegmentNamesRepository } from './segment-names.repository';
import type { ComputedTraitDefinition } from './user-computed-traits';

type DefinitionWithBackfill = ComputedTraitDefinition & { backfill: BackfillView | null };
const withBackfill = ({ def, backfill }: { def: ComputedTraitDefinition; backfill: BackfillProgress | null }): DefinitionWithBackfill => ({
  ...def,
  backfill: backfill ? backfillView(backfill) : null,
});

/**
 * The workspace's user-defined computed traits. A definition counts the events applied after it
 * takes effect (within 2 s) and, by a background backfill, the events already in the timeline.
 */
/** The `{name}` of a route, for the OpenAPI document (the NameParam DTO validates it). */
const NAME_PARAM = { name: 'name', description: 'The computed trait: a-z, 0-9 and _, starting with a letter (e.g. spend_30d).' };

@ApiTags('computed-traits')
@ApiBearerAuth()
@Controller('v1/computed-traits')
@UseGuards(ApiKeyGuard)
@UsePipes(new DtoValidationPipe())
export class ComputedTraitsController {
  constructor(
    private readonly definitions: ComputedTraitsRepository,
    private readonly segments: SegmentNamesRepository,
  ) {}

  @Get()
  @RequireScope('read:profiles')
  @ApiOperation({ summary: "The workspace's computed-trait definitions" })
  @ApiOkResponse({ type: [ComputedTraitView] })
  async list(@WorkspaceId() workspaceId: string): Promise<DefinitionWithBackfill[]> {
    return (await this.definitions.listWithProgress(workspaceId)).map(withBackfill);
  }

  @Get(':name')
  @ApiParam(NAME_PARAM)
  @RequireScope('read:profiles')
  @ApiOperation({ summary: 'A computed-trait definition and the progress of its backfill' })
  @ApiOkResponse({ type: ComputedTraitView })
  @ApiNotFoundResponse()
  async get(@WorkspaceId() workspaceId: string, @Param() { name }: NameParam): Promise<DefinitionWithBackfill> {
    const found = await this.definitions.getWithProgress(workspaceId, name);
    if (!found) throw new NotFoundException('computed trait not found');
    return withBackfill(found);
  }

  @Put(':name')
  @ApiParam(NAME_PARAM)
  @RequireScope('write:profiles')
  @Audit('computed-trait.put')
  @ApiOperation({
    summary: 'Create or replace a computed trait (scope write:profiles)',
    description:
      'Counts events applied from now on; a new or changed definition also backfills the stored timelines in the background ' +
      '(progress on GET). An unchanged definition keeps its state.',
  })
  @ApiOkResponse({ type: ComputedTraitView })
  @ApiBadRequestResponse({ description: 'A name, event, aggregation, property or window that is not allowed; every problem is named.' })
  async put(
    @WorkspaceId() workspaceId: string,
    @Param() { name }: NameParam,
    @Body() body: ComputedTraitBody,
  ): Promise<DefinitionWithBackfill> {
    if (BUILT_IN_NAMES.includes(name)) throw new BadRequestException(`${name} is a built-in computed trait`);
    const existing = await this.definitions.list(workspaceId);
    if (!existing.some((d) => d.name === name) && existing.length >= MAX_DEFINITIONS)
      throw new BadRequestException(`at most ${MAX_DEFINITIONS} computed traits per workspace`);
    const def: ComputedTraitDefinition = {
      name,
      event: body.event,
      property: body.aggregation === 'count' ? null : (body.property ?? null),
      aggregation: body.aggregation,
      windowDays: body.windowDays ?? null,
    };
    await this.definitions.put(workspaceId, def, Date.now());
    const stored = await this.definitions.getWithProgress(workspaceId, name);
    return stored ? withBackfill(stored) : { ...def, backfill: null };
  }

  @Delete(':name')
  @ApiParam(NAME_PARAM)
  @RequireScope('write:profiles')
  @Audit('computed-trait.delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a computed trait (scope write:profiles)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'A segment reads it (as cdp.segments.definitions.v1 last said); change that segment first.' })
  async remove(@WorkspaceId() workspaceId: string, @Param() { name }: NameParam): Promise<void> {
    const readers = await this.segments.readersOf(workspaceId, name);
    if (readers.length > 0)
      throw new ConflictException(`computed trait ${name} is read by segment ${readers.join(', ')}; change those first`);
    if (!(await this.definitions.remove(workspaceId, name))) throw new NotFoundException('computed trait not found');
  }
}
