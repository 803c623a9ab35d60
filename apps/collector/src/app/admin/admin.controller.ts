import { timingSafeEqual, randomBytes } from 'node:crypto';
import {
  BadRequestException,
  Controller,
  ForbiddenException,
  HttpCode,
  NotFoundException,
  Post,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request } from 'express';
import { AccessService, bearerToken, newKey, SCOPES } from '@cdp/access';
import { CollectorConfig } from '../collector.config';
import { parseJsonBody } from '../tracking/body';

/** Workspace administration with CDP_ADMIN_TOKEN; off when the token is unset. */
@Controller('v1/admin')
export class AdminController {
  constructor(
    private readonly access: AccessService,
    private readonly config: CollectorConfig,
  ) {}

  @Post('workspaces')
  @HttpCode(201)
  async createWorkspace(@Req() req: Request): Promise<{ workspaceId: string; writeKey: string; apiKey: string }> {
    this.authorize(req.headers.authorization);
    const body = parseJsonBody(req.body) as { name?: unknown };
    const name = typeof body?.name === 'string' ? body.name.trim() : '';
    if (!name || name.length > 200) throw new BadRequestException('"name" is required: a string of 1 to 200 characters');
    const workspaceId = `ws_${randomBytes(9).toString('base64url')}`;
    await this.access.ensureWorkspace(workspaceId, name);
    const writeKey = newKey('write');
    const apiKey = newKey('api');
    const sourceId = `src_${randomBytes(9).toString('base64url')}`;
    await this.access.storeKey(writeKey, { workspaceId, kind: 'write', scopes: [], sourceId, name: 'default source' });
    await this.access.storeKey(apiKey, { workspaceId, kind: 'api', scopes: [...SCOPES], sourceId: null, name: 'admin key' });
    return { workspaceId, writeKey, apiKey };
  }

  private authorize(header: string | undefined): void {
    const expected = this.config.CDP_ADMIN_TOKEN;
    if (!expected) throw new NotFoundException('the admin API is disabled: set CDP_ADMIN_TOKEN to enable it');
    const token = bearerToken(header);
    if (!token) throw new UnauthorizedException('Authorization: Bearer <admin token> is required');
    const a = Buffer.from(token);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ForbiddenException('admin token is not valid');
  }
}
