import { timingSafeEqual } from 'node:crypto';
import { ForbiddenException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { AccessService, bearerToken, grants, keyRefusal } from '@cdp/access';
import { CollectorConfig } from '../collector.config';

/** Who is calling the admin API: the operator (every workspace) or one workspace's admin key. */
export type AdminCaller = { kind: 'operator' } | { kind: 'workspace'; workspaceId: string };

/** The answer of `GET /v1/admin/whoami`. */
export type Whoami = { kind: 'operator' } | { kind: 'api'; workspaceId: string; keyId: string; scopes: string[] };

/** The one answer for a workspace that does not exist and for one the caller may not see. */
export const workspaceNotFound = (): NotFoundException => new NotFoundException('workspace not found');

@Injectable()
export class AdminAuth {
  constructor(
    private readonly access: AccessService,
    private readonly config: CollectorConfig,
  ) {}

  /**
   * CDP_ADMIN_TOKEN only: creating workspaces is the operator's job. A wrong token is 401; a valid
   * API key (even with the admin scope) is 403: it is known, but not allowed this.
   */
  async operator(header: string | undefined): Promise<void> {
    const expected = this.config.CDP_ADMIN_TOKEN;
    if (!expected) throw new NotFoundException('the admin API is disabled: set CDP_ADMIN_TOKEN to enable it');
    const token = bearerToken(header);
    if (!token) throw new UnauthorizedException('Authorization: Bearer <admin token> is required');
    if (this.isOperatorToken(token)) return;
    if (await this.access.verify(token, 'api'))
      throw new ForbiddenException("creating a workspace needs the operator's admin token (CDP_ADMIN_TOKEN), not an API key");
    throw new UnauthorizedException('admin token is not valid');
  }

  /**
   * The operator token, or an API key with the `admin` scope of this very workspace. A key of
   * another workspace gets the same 404 as an unknown workspace, so it learns nothing.
   */
  async forWorkspace(header: string | undefined, workspaceId: string): Promise<AdminCaller> {
    const token = bearerToken(header);
    if (!token) throw new UnauthorizedException('Authorization: Bearer <admin token or API key> is required');
    if (this.isOperatorToken(token)) return { kind: 'operator' };
    const principal = await this.access.verify(token, 'api');
    if (!principal) throw new UnauthorizedException(keyRefusal(token, 'api'));
    if (!grants(principal.scopes, 'admin')) throw new ForbiddenException('API key lacks the admin scope');
    if (principal.workspaceId !== workspaceId) throw workspaceNotFound();
    return { kind: 'workspace', workspaceId };
  }

  /** Who the bearer is: the operator, or an API key of any scope (its workspace, id and scopes). */
  async whoami(header: string | undefined): Promise<Whoami> {
    const token = bearerToken(header);
    if (!token) throw new UnauthorizedException('Authorization: Bearer <admin token or API key> is required');
    if (this.isOperatorToken(token)) return { kind: 'operator' };
    const principal = await this.access.verify(token, 'api');
    if (!principal) throw new UnauthorizedException(keyRefusal(token, 'api'));
    return { kind: 'api', workspaceId: principal.workspaceId, keyId: principal.keyId, scopes: principal.scopes };
  }

  private isOperatorToken(token: string): boolean {
    const expected = this.config.CDP_ADMIN_TOKEN;
    if (!expected) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
