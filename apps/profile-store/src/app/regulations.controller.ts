import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, UseGuards, UsePipes } from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';
import { ApiAcceptedResponse, ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { CreateRegulationBody, RegulationView } from './regulations.dto';
import { RegulationsService, regulationView } from './regulations.service';

/** Privacy regulations over lists of identifiers (suppress, delete, both; unsuppress lifts a suppression). */
@ApiTags('regulations')
@ApiBearerAuth()
@Controller('v1/regulations')
@UseGuards(ApiKeyGuard)
@RequireScope('write:profiles')
@UsePipes(new DtoValidationPipe())
export class RegulationsController {
  constructor(private readonly regulations: RegulationsService) {}

  @Post()
  @HttpCode(202)
  @Audit('regulation.create')
  @ApiOperation({
    summary: 'Create a regulation',
    description:
      'Suppression is in force when this answers (events handled afterwards are dropped here; the normalizer drops them once it has ' +
      'read cdp.privacy.suppressions.v1); unsuppress lifts it the same way; erasures run in the background. Scope write:profiles.',
  })
  @ApiAcceptedResponse({ type: RegulationView })
  async create(@WorkspaceId() workspaceId: string, @Body() body: CreateRegulationBody): Promise<RegulationView> {
    return regulationView(await this.regulations.create(workspaceId, body.type, body.identifiers));
  }

  @Get(':regulationId')
  @Audit('regulation.read')
  @ApiOperation({ summary: 'A regulation and its progress' })
  @ApiOkResponse({ type: RegulationView })
  @ApiNotFoundResponse({ description: 'No such regulation in this workspace.' })
  async get(@WorkspaceId() workspaceId: string, @Param('regulationId') regulationId: string): Promise<RegulationView> {
    const doc = regulationId.length <= 64 ? await this.regulations.get(workspaceId, regulationId) : null;
    if (!doc) throw new NotFoundException('regulation not found');
    return regulationView(doc);
  }
}
