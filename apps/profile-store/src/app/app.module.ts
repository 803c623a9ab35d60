import { Module } from '@nestjs/common';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformModule } from '@cdp/platform';
import { ComputedTraitsController } from './computed-traits.controller';
import { ComputedTraitsRepository } from './computed-traits.repository';
import { ErasuresRepository } from './erasures.repository';
import { ProfilePipelineConsumer } from './pipeline.consumer';
import { ProfileChangePublisher } from './profile-change.publisher';
import { ProfileEraser } from './profile-eraser';
import { ProfileExporter } from './profile-export';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfileSegmentsRepository } from './profile-segments.repository';
import { ProfileSettingsController } from './profile-settings.controller';
import { ProfileSettingsRepository } from './profile-settings.repository';
import { ProfileStoreConfig } from './profile-store.config';
import { ProfileWriter } from './profile-writer';
import { ProfilesController } from './profiles.controller';
import { ProfilesRepository } from './profiles.repository';
import { RegulationsController } from './regulations.controller';
import { RegulationsRepository } from './regulations.repository';
import { RegulationSuppressions } from './regulation-suppressions';
import { ComputedTraitBackfill } from './computed-trait-backfill';
import { RegulationsService } from './regulations.service';
import { TimelineRepository } from './timeline.repository';
import { EventOwnersRepository } from './event-owners.repository';
import { SegmentDefinitionsConsumer } from './segment-definitions.consumer';
import { SegmentNamesRepository } from './segment-names.repository';
import { TimelineSweeper } from './timeline-sweeper';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'profile-store', defaultPort: 3004, config: ProfileStoreConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
  ],
  controllers: [ProfilesController, RegulationsController, ProfileSettingsController, ComputedTraitsController],
  providers: [
    ProfilesRepository,
    ProfileIdentifiersRepository,
    TimelineRepository,
    EventOwnersRepository,
    ProfileSegmentsRepository,
    SegmentNamesRepository,
    ErasuresRepository,
    ComputedTraitsRepository,
    ProfileWriter,
    ProfileEraser,
    ProfileExporter,
    RegulationsRepository,
    RegulationSuppressions,
    ComputedTraitBackfill,
    RegulationsService,
    ProfileSettingsRepository,
    TimelineSweeper,
    ProfilePipelineConsumer,
    SegmentDefinitionsConsumer,
    ProfileChangePublisher,
  ],
})
export class AppModule {}
