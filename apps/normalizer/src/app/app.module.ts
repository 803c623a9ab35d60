import { Module } from '@nestjs/common';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformConfig, PlatformModule } from '@cdp/platform';
import { DedupeRepository } from './dedupe.repository';
import { RawEventsConsumer } from './raw-events.consumer';
import { SettingsRepository } from './settings.repository';
import { TrackingPlansRepository } from './tracking-plans.repository';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'normalizer', defaultPort: 3002, config: PlatformConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
  ],
  providers: [DedupeRepository, SettingsRepository, TrackingPlansRepository, RawEventsConsumer],
})
export class AppModule {}
