import { Body, Controller, Get, Put, UseGuards, UsePipes } from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { ProfileSettingsRepository } from './profile-settings.repository';
import { ProfileStoreConfig } from './profile-store.config';

export class ProfileSettingsBody {
  @ApiProperty({ minimum: 0, maximum: 36500, description: 'Days a timeline entry is kept (by event timestamp); 0: forever.' })
  @IsInt({ message: 'timelineRetentionDays must be an integer' })
  @Min(0, { message: 'timelineRetentionDays must be at least 0' })
  @Max(36500, { message: 'timelineRetentionDays must be at most 36500' })
  timelineRetentionDays!: number;
}

export class ProfileSettingsView extends ProfileSettingsBody {
  @ApiProperty({ description: 'true while the workspace uses the service default.' })
  isDefault!: boolean;
}

/** The workspace's profile-store settings: for now the timeline retention. */
@ApiTags('settings')
@ApiBearerAuth()
@Controller('v1/profile-settings')
@UseGuards(ApiKeyGuard)
@UsePipes(new DtoValidationPipe())
export class ProfileSettingsController {
  constructor(
    private readonly settings: ProfileSettingsRepository,
    private readonly config: ProfileStoreConfig,
  ) {}

  @Get()
  @RequireScope('read:profiles')
  @ApiOperation({ summary: "The workspace's profile-store settings" })
  @ApiOkResponse({ type: ProfileSettingsView })
  async get(@WorkspaceId() workspaceId: string): Promise<ProfileSettingsView> {
    const doc = await this.settings.get(workspaceId);
    return doc
      ? { timelineRetentionDays: doc.timelineRetentionDays, isDefault: false }
      : { timelineRetentionDays: this.config.PROFILE_TIMELINE_RETENTION_DAYS, isDefault: true };
  }

  @Put()
  @RequireScope('admin')
  @Audit('profile-settings.update')
  @ApiOperation({ summary: "Set the workspace's timeline retention (scope admin)" })
  @ApiOkResponse({ type: ProfileSettingsView })
  async put(@WorkspaceId() workspaceId: string, @Body() body: ProfileSettingsBody): Promise<ProfileSettingsView> {
    await this.settings.set(workspaceId, body.timelineRetentionDays, Date.now());
    return { timelineRetentionDays: body.timelineRetentionDays, isDefault: false };
  }
}
