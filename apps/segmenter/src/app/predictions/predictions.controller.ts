import { Controller, Get, HttpCode, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { PredictionsService, type PredictionRun } from './predictions.service';
import { SegmentPredictionsRepository, type SegmentPredictionDocument } from './segment-predictions.repository';

/** Runs the workspace's predictions and serves their report and per-profile results. */
@Controller('v1/predictions')
@UseGuards(ApiKeyGuard)
export class PredictionsController {
  constructor(
    private readonly service: PredictionsService,
    private readonly predictions: SegmentPredictionsRepository,
  ) {}

  /** Recomputes now and answers when stored (a run in progress is joined, not repeated). */
  @Post('run')
  @HttpCode(200)
  @Audit('predictions.run')
  @RequireScope('admin')
  run(@WorkspaceId() workspaceId: string): Promise<PredictionRun> {
    return this.service.run(workspaceId);
  }

  @Get('report')
  @RequireScope('read:segments')
  async report(@WorkspaceId() workspaceId: string) {
    const latest = await this.service.report(workspaceId);
    if (!latest) throw new NotFoundException('no predictions run yet for this workspace (POST /v1/predictions/run)');
    return latest;
  }

  @Get('profiles/:profileId')
  @RequireScope('read:profiles')
  async profile(@WorkspaceId() workspaceId: string, @Param('profileId') profileId: string): Promise<SegmentPredictionDocument> {
    const found = await this.predictions.get(workspaceId, profileId);
    if (!found) throw new NotFoundException('no prediction for this profile (not a customer, or not computed yet)');
    return found;
  }
}
