import { randomBytes } from 'node:crypto';
import { Body, ConflictException, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { AccessService, KeyAdminService, newKey, SCOPES, type KeyInfo, type SourceInfo, Audit } from '@cdp/access';
import { AdminAuth, workspaceNotFound, type Whoami } from './admin-auth';
import { CreateApiKeyDto, CreateSourceDto, CreateWorkspaceDto, RotateKeyDto } from './admin.dto';
import { JsonBodyPipe, OptionalJsonBodyPipe, validateDto } from './json-body.pipe';

/**
 * Workspaces (operator token only), and each workspace's sources and keys (operator token, or
 * an API key with the admin scope of that workspace). Key material is answered once, at creation.
 */
@Controller('v1/admin')
export class AdminController {
  constructor(
    private readonly access: AccessService,
    private readonly admin: KeyAdminService,
    private readonly auth: AdminAuth,
  ) {}

  @Post('workspaces')
  @Audit('admin.workspace.create')
  @HttpCode(201)
  async createWorkspace(
    @Headers('authorization') authorization: string | undefined,
    @Body(JsonBodyPipe, validateDto) body: CreateWorkspaceDto,
  ): Promise<{ workspaceId: string; sourceId: string; writeKey: string; apiKey: string }> {
    await this.auth.operator(authorization);
    const workspaceId = `ws_${randomBytes(9).toString('base64url')}`;
    await this.access.ensureWorkspace(workspaceId, body.name);
    const { source, writeKey } = await this.admin.createSource(workspaceId, 'default source');
    const apiKey = newKey('api');
    await this.access.storeKey(apiKey, { workspaceId, kind: 'api', scopes: [...SCOPES], sourceId: null, name: 'admin key' });
    return { workspaceId, sourceId: source.sourceId, writeKey, apiKey };
  }

  /** Who the bearer is, so a client holding only an API key can learn its workspace. */
  @Get('whoami')
  whoami(@Headers('authorization') authorization: string | undefined): Promise<Whoami> {
    return this.auth.whoami(authorization);
  }

  @Get('workspaces/:workspaceId/sources')
  @Audit('admin.sources.list')
  async listSources(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
  ): Promise<{ sources: SourceInfo[] }> {
    await this.authorize(authorization, workspaceId);
    return { sources: await this.admin.listSources(workspaceId) };
  }

  @Post('workspaces/:workspaceId/sources')
  @Audit('admin.source.create')
  @HttpCode(201)
  async createSource(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
    @Body(JsonBodyPipe, validateDto) body: CreateSourceDto,
  ): Promise<SourceInfo & { writeKey: string; keyId: string }> {
    await this.authorize(authorization, workspaceId);
    // Imports and the CLI name sources (`--source web`): one name, one source. Checked, not indexed,
    // so workspaces that already hold a duplicate keep working.
    const taken = (await this.admin.listSources(workspaceId)).find((s) => s.name === body.name);
    if (taken) throw new ConflictException(`source ${taken.sourceId} is already named ${JSON.stringify(body.name)} in this workspace`);
    const { source, writeKey, keyId } = await this.admin.createSource(workspaceId, body.name);
    return { ...source, writeKey, keyId };
  }

  @Post('workspaces/:workspaceId/sources/:sourceId/rotate-key')
  @Audit('admin.write_key.rotate')
  @HttpCode(200)
  async rotateWriteKey(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
    @Param('sourceId') sourceId: string,
    @Body(OptionalJsonBodyPipe, validateDto) body: RotateKeyDto,
  ): Promise<{ sourceId: string; writeKey: string; keyId: string; revokedKeyIds: string[]; oldKeysWorkUntil: string | null }> {
    await this.authorize(authorization, workspaceId);
    const rotated = await this.admin.rotateWriteKey(workspaceId, sourceId, body.graceSeconds ?? 0);
    if (!rotated) throw new NotFoundException('source not found');
    return rotated;
  }

  @Get('workspaces/:workspaceId/keys')
  @Audit('admin.keys.list')
  async listKeys(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
  ): Promise<{ keys: KeyInfo[] }> {
    await this.authorize(authorization, workspaceId);
    return { keys: await this.admin.listKeys(workspaceId) };
  }

  @Post('workspaces/:workspaceId/keys')
  @Audit('admin.api_key.create')
  @HttpCode(201)
  async createApiKey(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
    @Body(JsonBodyPipe, validateDto) body: CreateApiKeyDto,
  ): Promise<KeyInfo & { apiKey: string }> {
    await this.authorize(authorization, workspaceId);
    const { apiKey, key } = await this.admin.createApiKey(workspaceId, body.name, body.scopes);
    return { ...key, apiKey };
  }

  @Delete('workspaces/:workspaceId/keys/:keyId')
  @Audit('admin.key.revoke')
  async revokeKey(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
    @Param('keyId') keyId: string,
  ): Promise<KeyInfo> {
    await this.authorize(authorization, workspaceId);
    const revoked = await this.admin.revokeKey(workspaceId, keyId);
    if (!revoked) throw new NotFoundException('key not found');
    return revoked;
  }

  /** The caller may act on this workspace, and it exists; one 404 for "unknown" and "not yours". */
  private async authorize(authorization: string | undefined, workspaceId: string): Promise<void> {
    const caller = await this.auth.forWorkspace(authorization, workspaceId);
    if (caller.kind === 'operator' && !(await this.admin.workspaceExists(workspaceId))) throw workspaceNotFound();
  }
}
