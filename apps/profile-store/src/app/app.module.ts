import { Module } from '@nestjs/common';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformModule } from '@cdp/platform';
import { ErasuresRepository } from './erasures.repository';
import { ProfilePipelineConsumer } from './pipeline.consumer';
import { ProfileEraser } from './profile-eraser';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfileSegmentsRepository } from './profile-segments.repository';
import { ProfileStoreConfig } from './profile-store.config';
import { ProfileWriter } from './profile-writer';
import { ProfilesController } from './profiles.controller';
import { ProfilesRepository } from './profiles.repository';
import { TimelineRepository } from './timeline.repository';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'profile-store', defaultPort: 3004, config: ProfileStoreConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
  ],
  controllers: [ProfilesController],
  providers: [
    ProfilesRepository,
    ProfileIdentifiersRepository,
    TimelineRepository,
    ProfileSegmentsRepository,
    ErasuresRepository,
    ProfileWriter,
    ProfileEraser,
    ProfilePipelineConsumer,
  ],
})
export class AppModule {}
