import { type ExecutionContext, Logger, NotFoundException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { lastValueFrom, of, throwError } from 'rxjs';
import { Audit, AuditInterceptor } from './audit';
import { hashKey, keyIdOf } from './keys';

class Routes {
  @Audit('profile.read')
  read(): string {
    return 'read';
  }
  plain(): string {
    return 'plain';
  }
}

const contextFor = (handler: () => string, request: object): ExecutionContext =>
  ({
    getHandler: () => handler,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({ statusCode: 200 }) }),
  }) as unknown as ExecutionContext;

describe('AuditInterceptor', () => {
  const interceptor = new AuditInterceptor(new Reflector());
  let logged: unknown[];
  beforeEach(() => {
    logged = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation((m: unknown) => void logged.push(m));
  });
  afterEach(() => jest.restoreAllMocks());

  it('records an audited call with the key id, workspace and route pattern, never the path or the key', async () => {
    const request = {
      headers: { authorization: 'Bearer secret-key-1' },
      principal: { keyId: 'abc123', workspaceId: 'ws1', kind: 'api', scopes: [], sourceId: null },
      method: 'GET',
      route: { path: '/v1/profiles/:id' },
      url: '/v1/profiles/email:jane@example.com',
    };
    await lastValueFrom(interceptor.intercept(contextFor(Routes.prototype.read, request), { handle: () => of('x') }));
    expect(logged).toEqual([
      {
        audit: {
          action: 'profile.read',
          outcome: 'ok',
          status: 200,
          actor: 'key:abc123',
          workspaceId: 'ws1',
          method: 'GET',
          route: '/v1/profiles/:id',
        },
      },
    ]);
    expect(JSON.stringify(logged)).not.toMatch(/jane|secret-key-1/);
  });

  it('records a refusal inside the handler, naming an unguarded caller by the id of its bearer credential', async () => {
    const request = { headers: { authorization: 'Bearer operator-token-123456' }, method: 'POST', params: { workspaceId: 'ws9' } };
    const call = interceptor.intercept(contextFor(Routes.prototype.read, request), {
      handle: () => throwError(() => new NotFoundException()),
    });
    await expect(lastValueFrom(call)).rejects.toThrow(NotFoundException);
    expect(logged).toMatchObject([
      { audit: { outcome: 'refused', status: 404, actor: `key:${keyIdOf(hashKey('operator-token-123456'))}`, workspaceId: 'ws9' } },
    ]);
  });

  it('leaves routes without @Audit alone', async () => {
    await lastValueFrom(interceptor.intercept(contextFor(Routes.prototype.plain, { headers: {} }), { handle: () => of('x') }));
    expect(logged).toEqual([]);
  });
});
