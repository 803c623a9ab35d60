import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformModule } from '@cdp/platform';
import { AdminAuth } from './admin/admin-auth';
import { AdminController } from './admin/admin.controller';
import { CollectorConfig } from './collector.config';
import { CsvImportController } from './import/csv-import.controller';
import { ImportRunner } from './import/import-runner';
import { NdjsonImportController } from './import/ndjson-import.controller';
import { rateLimitOptions } from './limits/rate-limit';
import { PixelController } from './pixel/pixel.controller';
import { GracefulShutdown } from './shutdown';
import { EventWriter } from './tracking/event-writer';
import { TrackingController } from './tracking/tracking.controller';
import { WebhookAdminController } from './webhooks/webhook-admin.controller';
import { WebhookMappingRepository } from './webhooks/webhook-mapping.repository';
import { WebhookController } from './webhooks/webhook.controller';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'collector', defaultPort: 3001, config: CollectorConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
    ThrottlerModule.forRootAsync({ inject: [CollectorConfig], useFactory: rateLimitOptions }),
  ],
  controllers: [
    TrackingController,
    AdminController,
    CsvImportController,
    NdjsonImportController,
    WebhookController,
    WebhookAdminController,
    PixelController,
  ],
  providers: [
    EventWriter,
    AdminAuth,
    GracefulShutdown,
    ImportRunner,
    WebhookMappingRepository,
    { provide: APP_GUARD, useClass: ThrottlerGuard },
  ],
})
export class AppModule {}
