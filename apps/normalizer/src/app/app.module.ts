import { Module } from '@nestjs/common';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformModule } from '@cdp/platform';
import { NormalizerConfig } from './normalizer.config';
import { SettingsController } from './api/settings.controller';
import { TrackingPlansController } from './api/tracking-plans.controller';
import { ViolationsController } from './api/violations.controller';
import { DedupeRepository } from './dedupe.repository';
import { DlqController } from './dlq/dlq.controller';
import { DlqIndexRepository } from './dlq/dlq-index.repository';
import { DlqIndexer } from './dlq/dlq-indexer';
import { RawEventsConsumer } from './raw-events.consumer';
import { SettingsRepository } from './settings.repository';
import { SuppressionsConsumer } from './suppression/suppressions.consumer';
import { SuppressionsRepository } from './suppression/suppressions.repository';
import { TrackingPlansRepository } from './tracking-plans.repository';
import { ViolationsRepository } from './violations/violations.repository';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'normalizer', defaultPort: 3002, config: NormalizerConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
  ],
  controllers: [SettingsController, TrackingPlansController, ViolationsController, DlqController],
  providers: [
    DedupeRepository,
    SettingsRepository,
    TrackingPlansRepository,
    ViolationsRepository,
    DlqIndexRepository,
    DlqIndexer,
    SuppressionsRepository,
    SuppressionsConsumer,
    RawEventsConsumer,
  ],
})
export class AppModule {}
