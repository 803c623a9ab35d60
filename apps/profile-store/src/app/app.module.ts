import { Module } from '@nestjs/common';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformConfig, PlatformModule } from '@cdp/platform';
import { ProfilePipelineConsumer } from './pipeline.consumer';
import { ProfileWriter } from './profile-writer';
import { ProfilesController } from './profiles.controller';
import { ProfilesRepository } from './profiles.repository';
import { TimelineRepository } from './timeline.repository';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'profile-store', defaultPort: 3004, config: PlatformConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
  ],
  controllers: [ProfilesController],
  providers: [ProfilesRepository, TimelineRepository, ProfileWriter, ProfilePipelineConsumer],
})
export class AppModule {}
