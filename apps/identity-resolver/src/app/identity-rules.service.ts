import { Injectable } from '@nestjs/common';
import { DEFAULT_IDENTITY_RULES, type IdentityRules } from '@cdp/identity-graph';

/**
 * A workspace's identity rules. Every workspace has the defaults for now; this is the seam
 * where stored per-workspace rules (PUT /v1/identity-rules) will be read, with a short cache.
 */
@Injectable()
export class IdentityRulesService {
  forWorkspace(_workspaceId: string): Promise<IdentityRules> {
    return Promise.resolve(DEFAULT_IDENTITY_RULES);
  }
}
