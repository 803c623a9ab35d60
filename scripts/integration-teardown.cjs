// Jest globalTeardown of the integration tier: drops the databases this run's test scopes made
// (every spec's own afterAll, which stops its services, has run by now), so that repeated runs do
// not pile databases up on a developer's FerretDB. CDP_KEEP_TEST_DATABASES=true keeps them.
const { readFileSync, rmSync } = require('node:fs');
const { MongoClient } = require('mongodb');

module.exports = async () => {
  const file = process.env.CDP_TEST_DATABASES_FILE;
  if (!file) return;
  const names = [
    ...new Set(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((n) => /^cdp_t_\w+$/.test(n)),
    ),
  ];
  rmSync(file, { force: true });
  if (process.env.CDP_KEEP_TEST_DATABASES === 'true' || names.length === 0) return;
  const client = new MongoClient(process.env.MONGO_URL || 'mongodb://localhost:27017', { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.connect();
    for (const name of names) await client.db(name).dropDatabase();
  } catch (e) {
    console.warn(`integration teardown: could not drop the test databases: ${e instanceof Error ? e.message : e}`);
  } finally {
    await client.close();
  }
};
