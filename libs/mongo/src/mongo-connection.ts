import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Db, MongoClient } from 'mongodb';
import { databaseName, HealthRegistry, PlatformConfig } from '@cdp/platform';
import { ClientWatchdog } from './client-watchdog';

const CLIENT_OPTIONS = { retryWrites: false, serverSelectionTimeoutMS: 5_000 } as const;
/** How often the watchdog checks the shared client (see ClientWatchdog). */
const WATCHDOG_INTERVAL_MS = 10_000;

/** The service's MongoDB client and database (from MONGO_URL). */
@Injectable()
export class MongoConnection implements OnApplicationShutdown {
  readonly client: MongoClient;
  readonly db: Db;
  private readonly watchdog: NodeJS.Timeout;

  constructor(config: PlatformConfig, health: HealthRegistry) {
    // retryWrites: FerretDB does not support retryable writes; every write here is idempotent anyway.
    // monitorCommands: DbOperationsMetrics counts what each command costs the server.
    this.client = new MongoClient(config.MONGO_URL, { ...CLIENT_OPTIONS, maxPoolSize: 20, monitorCommands: true });
    this.db = this.client.db(databaseName(config.MONGO_URL));
    health.register('mongodb', async () => {
      await this.db.command({ ping: 1 });
    });
    const logger = new Logger('MongoConnection');
    const watchdog = new ClientWatchdog(
      {
        ping: async () => void (await this.db.command({ ping: 1 })),
        pingFresh: () => pingOnce(config.MONGO_URL),
        reconnect: async () => {
          // A close that hangs on the stuck monitor must not keep the client down.
          await Promise.race([this.client.close(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
          await this.client.connect();
        },
      },
      (message) => logger.warn(message),
    );
    this.watchdog = setInterval(
      () => void watchdog.check().catch((e: unknown) => logger.warn(`MongoDB watchdog: ${String(e)}`)),
      WATCHDOG_INTERVAL_MS,
    );
    this.watchdog.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.watchdog);
    await this.client.close();
  }
}

/** One ping through a client of its own, closed afterwards. */
async function pingOnce(url: string): Promise<void> {
  const probe = new MongoClient(url, { ...CLIENT_OPTIONS, serverSelectionTimeoutMS: 3_000, maxPoolSize: 1 });
  try {
    await probe.connect();
    await probe.db().command({ ping: 1 });
  } finally {
    await probe.close();
  }
}
