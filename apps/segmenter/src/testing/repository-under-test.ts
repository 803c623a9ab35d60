import { MongoConnection } from '@cdp/mongo';
import { HealthRegistry, PlatformConfig } from '@cdp/platform';
import { testScope } from '@cdp/testing';

/**
 * A repository on a test database of its own on the real store, for one suite: made and indexed
 * before the tests, the database dropped after them. The getter answers it once `beforeAll` ran.
 */
export function repositoryUnderTest<R extends { ensureIndexes(): Promise<unknown> }>(
  label: string,
  make: (mongo: MongoConnection) => R,
): () => R {
  const scope = testScope(label);
  let mongo: MongoConnection | undefined;
  let repository: R | undefined;
  beforeAll(async () => {
    mongo = new MongoConnection(Object.assign(new PlatformConfig(), { MONGO_URL: scope.mongoUrl }), new HealthRegistry());
    repository = make(mongo);
    await repository.ensureIndexes();
  });
  afterAll(async () => {
    await mongo?.db.dropDatabase().catch(() => undefined);
    await mongo?.client.close();
  });
  return () => {
    if (!repository) throw new Error(`${label}: the repository is made in beforeAll`);
    return repository;
  };
}
