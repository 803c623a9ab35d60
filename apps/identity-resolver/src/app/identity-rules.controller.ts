import { Body, Controller, Get, Put, UseGuards, UsePipes } from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';
import { ApiKeyGuard, RequireScope, WorkspaceId, Audit } from '@cdp/access';
import { rulesWarnings, type EffectiveIdentityRules, type IdentityRulesInput } from './identity-rules';
import { IdentityRulesDto } from './identity-rules.dto';
import { IdentityRulesService } from './identity-rules.service';

/** The workspace's identity rules (brief section 3): read and replaced with an admin API key. */
@Controller('v1/identity-rules')
@UseGuards(ApiKeyGuard)
@RequireScope('admin')
@UsePipes(new DtoValidationPipe())
export class IdentityRulesController {
  constructor(private readonly rules: IdentityRulesService) {}

  @Get()
  get(@WorkspaceId() workspaceId: string): Promise<EffectiveIdentityRules> {
    return this.rules.effective(workspaceId);
  }

  /**
   * Replaces the workspace's rules; omitted fields take the defaults. Applies to new events.
   * `warnings`: defaults the new blocked lists leave out.
   */
  @Put()
  @Audit('identity_rules.update')
  async put(@WorkspaceId() workspaceId: string, @Body() body: IdentityRulesDto): Promise<EffectiveIdentityRules & { warnings: string[] }> {
    const input = toInput(body);
    return { ...(await this.rules.replace(workspaceId, input)), warnings: rulesWarnings(input) };
  }
}

/** A plain object of the fields that were given (the DTO instance would store class metadata and undefineds). */
function toInput(body: IdentityRulesDto): IdentityRulesInput {
  const input: IdentityRulesInput = {};
  if (body.priority !== undefined) input.priority = body.priority;
  if (body.limits !== undefined) input.limits = body.limits;
  if (body.defaultLimit !== undefined) input.defaultLimit = body.defaultLimit;
  if (body.maxIdentifiers !== undefined) input.maxIdentifiers = body.maxIdentifiers;
  if (body.maxMerges !== undefined) input.maxMerges = body.maxMerges;
  if (body.blocked !== undefined) {
    input.blocked = {};
    if (body.blocked.values !== undefined) input.blocked.values = body.blocked.values;
    if (body.blocked.patterns !== undefined) input.blocked.patterns = body.blocked.patterns;
  }
  if (body.fuzzy !== undefined) input.fuzzy = body.fuzzy;
  return input;
}
