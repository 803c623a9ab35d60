import { BadRequestException, Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, RequireScope, WorkspaceId } from '@cdp/access';
import { parseViolationsQuery } from '../violations/violations-query';
import { ViolationsRepository, type ViolationView } from '../violations/violations.repository';

/**
 * What the workspace's flagged events violated in its tracking plan, one row per kind (event,
 * path, what is wrong). A path of its own: under `/v1/tracking-plans/` it would hide an event
 * named `violations`.
 */
@Controller('v1/tracking-plan-violations')
@UseGuards(ApiKeyGuard)
@RequireScope('admin')
export class ViolationsController {
  constructor(private readonly violations: ViolationsRepository) {}

  @Get()
  async list(
    @WorkspaceId() workspaceId: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ violations: ViolationView[]; total: number }> {
    const parsed = parseViolationsQuery(query, Date.now());
    if (!parsed.ok) throw new BadRequestException(parsed.problem);
    return this.violations.list(workspaceId, parsed.value);
  }
}
