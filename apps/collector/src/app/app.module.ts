import { Module } from '@nestjs/common';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformModule } from '@cdp/platform';
import { AdminAuth } from './admin/admin-auth';
import { AdminController } from './admin/admin.controller';
import { CollectorConfig } from './collector.config';
import { CsvImportController } from './import/csv-import.controller';
import { GracefulShutdown } from './shutdown';
import { EventWriter } from './tracking/event-writer';
import { TrackingController } from './tracking/tracking.controller';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'collector', defaultPort: 3001, config: CollectorConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
  ],
  controllers: [TrackingController, AdminController, CsvImportController],
  providers: [EventWriter, AdminAuth, GracefulShutdown],
})
export class AppModule {}
