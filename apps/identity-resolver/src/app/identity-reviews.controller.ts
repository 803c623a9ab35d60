import { BadRequestException, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import type { ReviewStatus } from './identity-reviews.repository';
import { IdentityReviewsService } from './identity-reviews.service';

const STATUSES: readonly ReviewStatus[] = ['pending', 'accepted', 'rejected'];
const MAX_LIMIT = 200;

/** Parses an integer query parameter within [min, max], or answers 400. */
function intParam(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d{1,9}$/.test(raw) || n < min || n > max) throw new BadRequestException(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** The review queue of fuzzy matching (pairs scored between the review and auto-merge thresholds). */
@Controller('v1/identity-reviews')
@UseGuards(ApiKeyGuard)
export class IdentityReviewsController {
  constructor(private readonly reviews: IdentityReviewsService) {}

  /** Newest first; `status` pending (default), accepted or rejected; `limit` (50, at most 200) and `offset`. */
  @Get()
  @RequireScope('read:identities')
  list(
    @WorkspaceId() workspaceId: string,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
    @Query('offset') offset?: string,
  ) {
    const s = (status ?? 'pending') as ReviewStatus;
    if (!STATUSES.includes(s)) throw new BadRequestException(`status must be one of ${STATUSES.join(', ')}`);
    return this.reviews.list(workspaceId, s, intParam('limit', limit, 50, 1, MAX_LIMIT), intParam('offset', offset, 0, 0, 1_000_000));
  }

  @Post(':id/accept')
  @HttpCode(200)
  @RequireScope('admin')
  @Audit('identity_reviews.accept')
  accept(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    return this.reviews.accept(workspaceId, id);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @RequireScope('admin')
  @Audit('identity_reviews.reject')
  reject(@WorkspaceId() workspaceId: string, @Param('id') id: string) {
    return this.reviews.reject(workspaceId, id);
  }
}
