import { BadRequestException, Body, Controller, Get, HttpCode, Post, Put, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { NormalizerConfig } from '../normalizer.config';
import { DEFAULT_SETTINGS, SettingsRepository } from '../settings.repository';
import { hashedIdentifiers } from '../privacy/pii';
import { parseIdentifierList, parseSettings, settingsWarnings, type SettingsInput } from './settings-input';

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

  /**
   * `{identifiers: [{type, value}]}` -> each with `hashed`: the value the workspace's PII policy
   * stores instead of it (null when it does not hash that field). A regulation must name those too
   * to find the person downstream; `cdp regulations create` adds them. Nothing is stored.
   */
  @Post('pii/hashes')
  @HttpCode(200)
  @Audit('normalizer_settings.pii_hashes')
  async piiHashes(
    @WorkspaceId() workspaceId: string,
    @Body() body: unknown,
  ): Promise<{ identifiers: ReturnType<typeof hashedIdentifiers> }> {
    const parsed = parseIdentifierList(body);
    if (!parsed.ok) throw new BadRequestException(parsed.problem);
    const settings = await this.settings.settings(workspaceId);
    return { identifiers: hashedIdentifiers(settings.pii, settings.piiSalt, parsed.value, settings.cleaning.defaultRegion) };
  }

  /**
   * Replaces the settings; omitted fields take the defaults. Applies to new events. `warnings`:
   * the PII and consent rules the replacement drops.
   */
  @Put()
  @Audit('normalizer_settings.update')
  async put(@WorkspaceId() workspaceId: string, @Body() body: unknown): Promise<SettingsInput & { warnings: string[] }> {
    const parsed = parseSettings(body, { ...DEFAULT_SETTINGS, consent: [], pii: [] }, this.config.CDP_PII_ENCRYPTION_KEY !== '');
    if (!parsed.ok) throw new BadRequestException(parsed.problem);
    const before = await this.settings.effective(workspaceId);
    const after = await this.settings.replace(workspaceId, parsed.value);
    return { ...after, warnings: settingsWarnings(before, after) };
  }
}
