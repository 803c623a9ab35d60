import { Module } from '@nestjs/common';
import { AccessModule } from '@cdp/access';
import { KafkaModule } from '@cdp/kafka';
import { MongoModule } from '@cdp/mongo';
import { PlatformConfig, PlatformModule } from '@cdp/platform';
import { IdentitiesController } from './identities.controller';
import { IdentitiesRepository } from './identities.repository';
import { IdentitiesService } from './identities.service';
import { IdentityProfilesRepository } from './identity-profiles.repository';
import { IdentityRefusalsRepository } from './identity-refusals.repository';
import { FuzzyLinker } from './fuzzy-linker.service';
import { IdentityMetrics } from './identity-metrics';
import { IdentityReviewsController } from './identity-reviews.controller';
import { IdentityReviewsRepository } from './identity-reviews.repository';
import { IdentityReviewsService } from './identity-reviews.service';
import { BlockingKeysRepository, LinkageRecordsRepository } from './linkage.repository';
import { IdentityRulesController } from './identity-rules.controller';
import { IdentityRulesService } from './identity-rules.service';
import { IdentityRulesStore } from './identity-rules.store';
import { NormalizedEventsConsumer } from './normalized-events.consumer';
import { ProfileErasures } from './profile-erasures';
import { ResolverService } from './resolver.service';

@Module({
  imports: [
    PlatformModule.forRoot({ service: 'identity-resolver', defaultPort: 3003, config: PlatformConfig }),
    KafkaModule.forRoot(),
    MongoModule.forRoot(),
    AccessModule,
  ],
  controllers: [IdentitiesController, IdentityRulesController, IdentityReviewsController],
  providers: [
    IdentitiesRepository,
    IdentityProfilesRepository,
    IdentityRulesStore,
    IdentityRulesService,
    ResolverService,
    LinkageRecordsRepository,
    BlockingKeysRepository,
    IdentityReviewsRepository,
    IdentityRefusalsRepository,
    IdentityMetrics,
    FuzzyLinker,
    IdentityReviewsService,
    IdentitiesService,
    ProfileErasures,
    NormalizedEventsConsumer,
  ],
})
export class AppModule {}
