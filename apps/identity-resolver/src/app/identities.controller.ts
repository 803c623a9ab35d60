import { BadRequestException, Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, RequireScope, WorkspaceId } from '@cdp/access';
import { parseIdentifier } from '@cdp/identity-graph';
import { IdentitiesRepository } from './identities.repository';
import { IdentityProfilesRepository } from './identity-profiles.repository';
import { describeMerge } from './outputs';
import { ProfileGraph } from './profile-graph';

@Controller('v1')
@UseGuards(ApiKeyGuard)
export class IdentitiesController {
  constructor(
    private readonly identities: IdentitiesRepository,
    private readonly profiles: IdentityProfilesRepository,
  ) {}

  /** An identifier's canonical profile and the merges that led there, oldest pointer first. */
  @Get('identities/:typeValue')
  @RequireScope('read:identities')
  async lookup(@WorkspaceId() workspaceId: string, @Param('typeValue') typeValue: string) {
    const parsed = parseIdentifier(typeValue);
    if (!parsed.ok) throw new BadRequestException(parsed.message);
    const identity = await this.identities.get(workspaceId, parsed.identifier);
    if (!identity) throw new NotFoundException(`no profile has the ${parsed.identifier.type} identifier`);
    const graph = await ProfileGraph.load([identity.profileId], (ids) => this.profiles.findMany(workspaceId, ids));
    const chain = graph.chain(identity.profileId);
    const canonical = chain.at(-1);
    if (!canonical || canonical.mergedInto)
      throw new NotFoundException(`the profile of this ${parsed.identifier.type} identifier is not stored yet`);
    return {
      profileId: canonical.profileId,
      identifier: parsed.identifier,
      merges: chain.flatMap((node) =>
        node.mergedInto && node.merge
          ? [describeMerge({ fromProfileId: node.profileId, intoProfileId: node.mergedInto, merge: node.merge })]
          : [],
      ),
    };
  }
}
