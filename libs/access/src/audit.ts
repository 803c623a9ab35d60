import { type CallHandler, type ExecutionContext, Injectable, Logger, type NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, tap } from 'rxjs';
import type { AuthenticatedRequest } from './api-key.guard';
import { bearerToken, hashKey, keyIdOf } from './keys';

const AUDIT_ACTION = 'cdp:audit-action';

/** Marks a route as audited: every call is recorded with this action name (e.g. `profile.read`). */
export const Audit = (action: string) => SetMetadata(AUDIT_ACTION, action);

interface AuditedRequest extends AuthenticatedRequest {
  method?: string;
  route?: { path?: string };
  params?: Record<string, string>;
}

/**
 * The caller: the id of the API key the guard accepted, or else of the bearer credential
 * presented (the admin API checks its operator token itself); never the credential.
 */
const actorOf = (request: AuditedRequest): string => {
  if (request.principal) return `key:${request.principal.keyId}`;
  const token = bearerToken(request.headers['authorization']);
  return token ? `key:${keyIdOf(hashKey(token))}` : 'anonymous';
};

/**
 * The audit log: one structured line (`"audit": {...}`) per call of an audited route that got
 * past the key guard (allowed, or refused inside the handler), with the action, the caller's key
 * id, the workspace, the route pattern and the status. Never the concrete ids, query or body:
 * they may hold personal data.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('audit');

  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const action = this.reflector.get<string | undefined>(AUDIT_ACTION, context.getHandler());
    if (!action) return next.handle();
    const request = context.switchToHttp().getRequest<AuditedRequest>();
    const response = context.switchToHttp().getResponse<{ statusCode?: number }>();
    const record = (outcome: 'ok' | 'refused' | 'failed', status: number | undefined) =>
      this.logger.log({
        audit: {
          action,
          outcome,
          status,
          actor: actorOf(request),
          workspaceId: request.principal?.workspaceId ?? request.params?.['workspaceId'] ?? null,
          method: request.method,
          route: request.route?.path,
        },
      });
    return next.handle().pipe(
      tap({
        next: () => record('ok', response.statusCode),
        error: (e: unknown) => {
          const status = (e as { status?: unknown }).status;
          record(typeof status === 'number' && status < 500 ? 'refused' : 'failed', typeof status === 'number' ? status : 500);
        },
      }),
    );
  }
}
