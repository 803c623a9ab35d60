import { BadRequestException, Controller, Delete, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { parseIdentifier, type Identifier } from '@cdp/identity-graph';
import { IdentitiesService } from './identities.service';

const parse = (typeValue: string): Identifier => {
  const parsed = parseIdentifier(typeValue);
  if (!parsed.ok) throw new BadRequestException(parsed.message);
  return parsed.identifier;
};

@Controller('v1')
@UseGuards(ApiKeyGuard)
export class IdentitiesController {
  constructor(private readonly identities: IdentitiesService) {}

  /** An identifier's canonical profile and the merges that led there, oldest pointer first, each with its reason. */
  @Get('identities/:typeValue')
  @RequireScope('read:identities')
  async lookup(@WorkspaceId() workspaceId: string, @Param('typeValue') typeValue: string) {
    const id = parse(typeValue);
    const result = await this.identities.explain(workspaceId, id);
    if (result.found) return result.body;
    const latest = result.refusals[0];
    const message =
      result.why === 'unknown'
        ? `no profile has the ${id.type} identifier${latest ? `: ${latest.limit} kept it off ${latest.profileId} (last ${latest.lastAt})` : ''}`
        : `the profile of this ${id.type} identifier is not stored yet`;
    // The refusals say which people it was kept from, and by which rule.
    throw new NotFoundException({ statusCode: 404, error: 'Not Found', message, refusals: result.refusals });
  }

  /** Removes an identifier from its person; it stands for a new person of its own (`newProfileId`) from then on. */
  @Delete('identities/:typeValue')
  @RequireScope('admin')
  @Audit('identities.delete')
  async remove(@WorkspaceId() workspaceId: string, @Param('typeValue') typeValue: string) {
    const id = parse(typeValue);
    const result = await this.identities.remove(workspaceId, id);
    if (!result.removed) throw new NotFoundException(`no profile has the ${id.type} identifier`);
    return { identifier: id, removed: true, profileId: result.profileId ?? null, newProfileId: result.newProfileId ?? null };
  }
}
