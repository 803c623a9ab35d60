import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AccessService } from './access.service';
import { ApiKeyGuard } from './api-key.guard';
import { AuditInterceptor } from './audit';
import { KeyAdminService } from './key-admin.service';

@Global()
@Module({
  providers: [AccessService, ApiKeyGuard, KeyAdminService, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
  exports: [AccessService, ApiKeyGuard, KeyAdminService],
})
export class AccessModule {}
