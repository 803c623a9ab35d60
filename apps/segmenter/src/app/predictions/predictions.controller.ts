import { Controller, Get, HttpCode, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { LatestReportDto, PredictionRunDto, REPORT_VARIANTS, SegmentPredictionDto } from './predictions.dto';
import {
  latestReportView,
  runView,
  segmentPredictionView,
  type LatestReportView,
  type PredictionRunView,
  type SegmentPredictionView,
} from './prediction-views';
import { PredictionsService } from './predictions.service';
import { SegmentPredictionsRepository } from './segment-predictions.repository';

/** Runs the workspace's predictions and serves their report and per-profile results. */
@ApiTags('predictions')
@ApiBearerAuth()
@ApiExtraModels(...REPORT_VARIANTS)
@ApiUnauthorizedResponse({ description: 'No or an unknown API key.' })
@ApiForbiddenResponse({ description: 'The key lacks the scope of the route.' })
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
  @ApiOperation({
    summary: "Run the workspace's predictions now (scope admin)",
    description:
      'RFM, churn risk and clusters from the stored snapshots and orders; answers once they are stored and the segments ' +
      'reading a predicted trait are re-evaluated. A run in progress is joined, not repeated.',
  })
  @ApiOkResponse({ type: PredictionRunDto })
  async run(@WorkspaceId() workspaceId: string): Promise<PredictionRunView> {
    return runView(await this.service.run(workspaceId));
  }

  @Get('report')
  @RequireScope('read:segments')
  @ApiOperation({ summary: "The model report of the workspace's latest run" })
  @ApiOkResponse({ type: LatestReportDto })
  @ApiNotFoundResponse({ description: 'No run yet for this workspace (POST /v1/predictions/run).' })
  async report(@WorkspaceId() workspaceId: string): Promise<LatestReportView> {
    const latest = await this.service.report(workspaceId);
    if (!latest) throw new NotFoundException('no predictions run yet for this workspace (POST /v1/predictions/run)');
    return latestReportView(latest);
  }

  @Get('profiles/:profileId')
  @RequireScope('read:profiles')
  @ApiOperation({ summary: "A profile's predictions (scope read:profiles)" })
  @ApiParam({ name: 'profileId', description: 'The profile id (as in the segment changes).' })
  @ApiOkResponse({ type: SegmentPredictionDto })
  @ApiNotFoundResponse({ description: 'No prediction for this profile: not a customer (no order), or not computed yet.' })
  async profile(@WorkspaceId() workspaceId: string, @Param('profileId') profileId: string): Promise<SegmentPredictionView> {
    const found = await this.predictions.get(workspaceId, profileId);
    if (!found) throw new NotFoundException('no prediction for this profile (not a customer, or not computed yet)');
    return segmentPredictionView(found);
  }
}
