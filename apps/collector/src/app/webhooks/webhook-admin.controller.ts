import { Body, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Param, Put, BadRequestException } from '@nestjs/common';
import { Audit, KeyAdminService } from '@cdp/access';
import { AdminAuth, workspaceNotFound } from '../admin/admin-auth';
import { JsonBodyPipe } from '../admin/json-body.pipe';
import { validateMapping, WebhookMappingError, type WebhookMapping } from './webhook-mapping';
import { WebhookMappingRepository } from './webhook-mapping.repository';

interface MappingAnswer {
  sourceId: string;
  mapping: WebhookMapping;
  updatedAt: string;
}

/** A source's webhook mapping, beside the other source routes of the admin API (same auth). */
@Controller('v1/admin/workspaces/:workspaceId/sources/:sourceId/webhook-mapping')
export class WebhookAdminController {
  constructor(
    private readonly admin: KeyAdminService,
    private readonly auth: AdminAuth,
    private readonly mappings: WebhookMappingRepository,
  ) {}

  @Get()
  @Audit('admin.webhook_mapping.read')
  async get(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
    @Param('sourceId') sourceId: string,
  ): Promise<MappingAnswer> {
    await this.authorize(authorization, workspaceId, sourceId);
    const record = await this.mappings.get(workspaceId, sourceId, true);
    if (!record) throw new NotFoundException('this source has no webhook mapping');
    return { sourceId, mapping: record.mapping, updatedAt: record.updatedAt.toISOString() };
  }

  @Put()
  @Audit('admin.webhook_mapping.put')
  @HttpCode(200)
  async put(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
    @Param('sourceId') sourceId: string,
    @Body(JsonBodyPipe) body: unknown,
  ): Promise<MappingAnswer> {
    await this.authorize(authorization, workspaceId, sourceId);
    let mapping: WebhookMapping;
    try {
      mapping = validateMapping(body);
    } catch (e) {
      if (e instanceof WebhookMappingError) throw new BadRequestException(e.message);
      throw e;
    }
    const record = await this.mappings.put(workspaceId, sourceId, mapping);
    return { sourceId, mapping: record.mapping, updatedAt: record.updatedAt.toISOString() };
  }

  @Delete()
  @Audit('admin.webhook_mapping.delete')
  @HttpCode(204)
  async remove(
    @Headers('authorization') authorization: string | undefined,
    @Param('workspaceId') workspaceId: string,
    @Param('sourceId') sourceId: string,
  ): Promise<void> {
    await this.authorize(authorization, workspaceId, sourceId);
    if (!(await this.mappings.remove(workspaceId, sourceId))) throw new NotFoundException('this source has no webhook mapping');
  }

  /** As the other admin routes: one 404 for unknown and for another workspace's; then the source must exist. */
  private async authorize(authorization: string | undefined, workspaceId: string, sourceId: string): Promise<void> {
    const caller = await this.auth.forWorkspace(authorization, workspaceId);
    if (caller.kind === 'operator' && !(await this.admin.workspaceExists(workspaceId))) throw workspaceNotFound();
    if (!(await this.admin.listSources(workspaceId)).some((s) => s.sourceId === sourceId)) throw new NotFoundException('source not found');
  }
}
