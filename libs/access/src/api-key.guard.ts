import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessService, type Principal } from './access.service';
import { bearerToken, grants, keyRefusal, type Scope } from './keys';

const SCOPE_KEY = 'cdp:scope';

/** The scope a route needs; the guard refuses keys without it. */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);

export interface AuthenticatedRequest {
  headers: Record<string, string | undefined>;
  principal?: Principal;
}

/** Bearer API keys: one workspace per key, scopes checked per route. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly access: AccessService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(request.headers['authorization']);
    if (!token) throw new UnauthorizedException('Authorization: Bearer <api key> is required');
    const principal = await this.access.verify(token, 'api');
    if (!principal) throw new UnauthorizedException(keyRefusal(token, 'api'));
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(SCOPE_KEY, [context.getHandler(), context.getClass()]);
    if (scope && !grants(principal.scopes, scope)) throw new ForbiddenException(`API key lacks the ${scope} scope`);
    request.principal = principal;
    return true;
  }
}

/** The workspace of the authenticated key. */
export const WorkspaceId = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new UnauthorizedException('not authenticated');
  return principal.workspaceId;
});
