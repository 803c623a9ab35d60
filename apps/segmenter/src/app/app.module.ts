import { Module } from '@nestjs/common';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformModule } from '@cdp/platform';
import { MembershipsRepository } from './membership/memberships.repository';
import { ProfileChangesConsumer } from './membership/profile-changes.consumer';
import { SegmentCatalog } from './segments/segment-catalog';
import { SegmentsController } from './segments/segments.controller';
import { SegmentsRepository } from './segments/segments.repository';
import { SegmenterConfig } from './segmenter.config';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'segmenter', defaultPort: 3005, config: SegmenterConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
  ],
  controllers: [SegmentsController],
  providers: [SegmentsRepository, MembershipsRepository, SegmentCatalog, ProfileChangesConsumer],
})
export class AppModule {}
