// Jest globalTeardown of the integration tier: removes what this run's test scopes made (every
// spec's own afterAll, which stops its services, has run by now): their databases, topics and
// consumer groups. Left behind, they pile up on a developer's stack, and a Kafka holding thousands
// of partitions took over two minutes to start after an unclean stop (CI, 2026-11-30).
// CDP_KEEP_TEST_SCOPES=true keeps everything, for a look after the run.
const { readFileSync, rmSync } = require('node:fs');
const { MongoClient } = require('mongodb');
const { Kafka, logLevel } = require('kafkajs');

module.exports = async () => {
  const file = process.env.CDP_TEST_SCOPES_FILE;
  if (!file) return;
  const ids = [
    ...new Set(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((id) => /^\w+$/.test(id)),
    ),
  ];
  rmSync(file, { force: true });
  if (process.env.CDP_KEEP_TEST_SCOPES === 'true' || ids.length === 0) return;
  const namespaces = ids.map((id) => `t.${id}.`);
  const ours = (name) => namespaces.some((ns) => name.startsWith(ns));
  await Promise.all([dropDatabases(ids.map((id) => `cdp_t_${id}`)), deleteTopicsAndGroups(ours)]);
};

async function dropDatabases(names) {
  const client = new MongoClient(process.env.MONGO_URL || 'mongodb://localhost:27017', { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.connect();
    for (const name of names) await client.db(name).dropDatabase();
  } catch (e) {
    console.warn(`integration teardown: could not drop the test databases: ${e instanceof Error ? e.message : e}`);
  } finally {
    await client.close();
  }
}

async function deleteTopicsAndGroups(ours) {
  const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',');
  const admin = new Kafka({ clientId: 'cdp-test-teardown', brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(ours);
    if (groups.length) await admin.deleteGroups(groups).catch(() => undefined); // an empty group only
    const topics = (await admin.listTopics()).filter(ours);
    if (topics.length) await admin.deleteTopics({ topics, timeout: 60_000 });
  } catch (e) {
    console.warn(`integration teardown: could not delete the test topics: ${e instanceof Error ? e.message : e}`);
  } finally {
    await admin.disconnect();
  }
}
