import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { DbOperationsMetrics } from './db-operations.metrics';
import { IndexBootstrap } from './index-bootstrap';
import { MongoConnection } from './mongo-connection';
import { DatabaseUnavailableFilter } from './unavailable.filter';

@Global()
@Module({})
export class MongoModule {
  static forRoot(): DynamicModule {
    return {
      module: MongoModule,
      imports: [DiscoveryModule],
      providers: [MongoConnection, DbOperationsMetrics, IndexBootstrap, { provide: APP_FILTER, useClass: DatabaseUnavailableFilter }],
      exports: [MongoConnection],
    };
  }
}
