import { BadRequestException, Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { NormalizerConfig } from '../normalizer.config';
import { DEFAULT_SETTINGS, SettingsRepository } from '../settings.repository';
import { parseSettings, type SettingsInput } from './settings-input';

/** The workspace's cleaning and privacy settings, read and replaced with an admin API key. */
@Controller('v1/settings')
@UseGuards(ApiKeyGuard)
@RequireScope('admin')
export class SettingsController {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly config: NormalizerConfig,
  ) {}

  @Get()
  get(@WorkspaceId() workspaceId: string): Promise<SettingsInput> {
    return this.settings.effective(workspaceId);
  }

  /** Replaces the settings; omitted fields take the defaults. Applies to new events. */
  @Put()
  @Audit('normalizer_settings.update')
  put(@WorkspaceId() workspaceId: string, @Body() body: unknown): Promise<SettingsInput> {
    const parsed = parseSettings(body, { ...DEFAULT_SETTINGS, consent: [], pii: [] }, this.config.CDP_PII_ENCRYPTION_KEY !== '');
    if (!parsed.ok) throw new BadRequestException(parsed.problem);
    return this.settings.replace(workspaceId, parsed.value);
  }
}
