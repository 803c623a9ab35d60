import { Global, Module } from '@nestjs/common';
import { AccessService } from './access.service';
import { ApiKeyGuard } from './api-key.guard';
import { KeyAdminService } from './key-admin.service';

@Global()
@Module({ providers: [AccessService, ApiKeyGuard, KeyAdminService], exports: [AccessService, ApiKeyGuard, KeyAdminService] })
export class AccessModule {}
