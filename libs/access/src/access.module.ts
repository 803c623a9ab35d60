import { Global, Module } from '@nestjs/common';
import { AccessService } from './access.service';
import { ApiKeyGuard } from './api-key.guard';

@Global()
@Module({ providers: [AccessService, ApiKeyGuard], exports: [AccessService, ApiKeyGuard] })
export class AccessModule {}
