import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Put,
  UseGuards,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { BUILT_IN_NAMES, ComputedTraitBody, ComputedTraitView, NameParam } from './computed-traits.dto';
import { ComputedTraitsRepository, MAX_DEFINITIONS } from './computed-traits.repository';
import type { ComputedTraitDefinition } from './user-computed-traits';

/**
 * The workspace's user-defined computed traits. A definition counts the events applied after it
 * takes effect (within 2 s); it is not backfilled from the timeline.
 */
@ApiTags('computed-traits')
@ApiBearerAuth()
@Controller('v1/computed-traits')
@UseGuards(ApiKeyGuard)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class ComputedTraitsController {
  constructor(private readonly definitions: ComputedTraitsRepository) {}

  @Get()
  @RequireScope('read:profiles')
  @ApiOperation({ summary: "The workspace's computed-trait definitions" })
  @ApiOkResponse({ type: [ComputedTraitView] })
  list(@WorkspaceId() workspaceId: string): Promise<ComputedTraitDefinition[]> {
    return this.definitions.list(workspaceId);
  }

  @Get(':name')
  @RequireScope('read:profiles')
  @ApiOperation({ summary: 'A computed-trait definition' })
  @ApiOkResponse({ type: ComputedTraitView })
  @ApiNotFoundResponse()
  async get(@WorkspaceId() workspaceId: string, @Param() { name }: NameParam): Promise<ComputedTraitDefinition> {
    const def = await this.definitions.get(workspaceId, name);
    if (!def) throw new NotFoundException('computed trait not found');
    return def;
  }

  @Put(':name')
  @RequireScope('write:profiles')
  @Audit('computed-trait.put')
  @ApiOperation({
    summary: 'Create or replace a computed trait (scope write:profiles)',
    description: 'Counts events applied from now on; a changed definition starts from scratch.',
  })
  @ApiOkResponse({ type: ComputedTraitView })
  async put(
    @WorkspaceId() workspaceId: string,
    @Param() { name }: NameParam,
    @Body() body: ComputedTraitBody,
  ): Promise<ComputedTraitDefinition> {
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
    return def;
  }

  @Delete(':name')
  @RequireScope('write:profiles')
  @Audit('computed-trait.delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a computed trait (scope write:profiles)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async remove(@WorkspaceId() workspaceId: string, @Param() { name }: NameParam): Promise<void> {
    if (!(await this.definitions.remove(workspaceId, name))) throw new NotFoundException('computed trait not found');
  }
}
