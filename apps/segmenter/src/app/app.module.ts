import { Module } from '@nestjs/common';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformModule } from '@cdp/platform';
import { MembershipEvaluator } from './evaluation/membership-evaluator';
import { SegmentChangePublisher } from './evaluation/segment-change-publisher';
import { SegmentEventsRepository } from './history/segment-events.repository';
import { SegmentProfilesRepository } from './history/segment-profiles.repository';
import { MembershipsRepository } from './membership/memberships.repository';
import { ScheduleRepository } from './schedule/schedule.repository';
import { SegmentTimer } from './schedule/segment-timer';
import { DueEntries } from './schedule/due-entries';
import { ScheduleBucketsRepository } from './schedule/schedule-buckets.repository';
import { ScheduleCursorsRepository } from './schedule/schedule-cursors.repository';
import { BackfillService } from './segments/backfill.service';
import { PreviewService } from './segments/preview.service';
import { SegmentRemoval } from './segments/segment-removal';
import { ProfileChangesConsumer } from './membership/profile-changes.consumer';
import { ChunkCatalogCheck } from './membership/chunk-catalog-check';
import { SegmentCatalog } from './segments/segment-catalog';
import { SegmentsController } from './segments/segments.controller';
import { SegmentsRepository } from './segments/segments.repository';
import { SegmenterConfig } from './segmenter.config';
import { PredictionsController } from './predictions/predictions.controller';
import { PredictionsService } from './predictions/predictions.service';
import { SegmentPredictionsRepository } from './predictions/segment-predictions.repository';
import { PredictionReportsRepository } from './predictions/prediction-reports.repository';
import { PredictionWorkspacesRepository } from './predictions/prediction-workspaces.repository';
import { PredictedSegmentsRefresher } from './predictions/predicted-segments.refresher';
import { SegmentSizesRepository } from './sizes/segment-sizes.repository';
import { SegmentTopics } from './output/segment-topics';
import { SegmentDefinitionPublisher } from './output/segment-definitions.publisher';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'segmenter', defaultPort: 3005, config: SegmenterConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
  ],
  controllers: [SegmentsController, PredictionsController],
  providers: [
    SegmentsRepository,
    MembershipsRepository,
    SegmentEventsRepository,
    SegmentProfilesRepository,
    ScheduleRepository,
    ScheduleBucketsRepository,
    ScheduleCursorsRepository,
    DueEntries,
    SegmentSizesRepository,
    SegmentCatalog,
    SegmentTopics,
    SegmentDefinitionPublisher,
    SegmentChangePublisher,
    MembershipEvaluator,
    BackfillService,
    PreviewService,
    SegmentRemoval,
    ChunkCatalogCheck,
    ProfileChangesConsumer,
    SegmentTimer,
    SegmentPredictionsRepository,
    PredictionReportsRepository,
    PredictionWorkspacesRepository,
    PredictedSegmentsRefresher,
    PredictionsService,
  ],
})
export class AppModule {}
