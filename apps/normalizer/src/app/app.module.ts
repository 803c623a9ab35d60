import { Module } from '@nestjs/common';
import { KafkaModule } from '@cdp/kafka';
import { PlatformConfig, PlatformModule } from '@cdp/platform';
import { RawEventsConsumer } from './raw-events.consumer';

@Module({
  imports: [PlatformModule.forRoot({ service: 'normalizer', defaultPort: 3002, config: PlatformConfig }), KafkaModule.forRoot()],
  providers: [RawEventsConsumer],
})
export class AppModule {}
