import { DynamicModule, Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Db, MongoClient } from 'mongodb';
import { databaseName, HealthRegistry, PlatformConfig } from '@cdp/platform';
import { IndexBootstrap } from './index-bootstrap';

/** The service's MongoDB client and database (from MONGO_URL). */
@Injectable()
export class MongoConnection implements OnApplicationShutdown {
  readonly client: MongoClient;
  readonly db: Db;

  constructor(config: PlatformConfig, health: HealthRegistry) {
    // retryWrites: FerretDB does not support retryable writes; every write here is idempotent anyway.
    this.client = new MongoClient(config.MONGO_URL, { retryWrites: false, serverSelectionTimeoutMS: 5_000, maxPoolSize: 20 });
    this.db = this.client.db(databaseName(config.MONGO_URL));
    health.register('mongodb', async () => {
      await this.db.command({ ping: 1 });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

@Global()
@Module({})
export class MongoModule {
  static forRoot(): DynamicModule {
    return { module: MongoModule, imports: [DiscoveryModule], providers: [MongoConnection, IndexBootstrap], exports: [MongoConnection] };
  }
}
