import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Partitioners } from 'kafkajs';
import { MongoClient } from 'mongodb';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Up to `n` records (key, value bytes) of a topic: the payloads the ceilings replay. */
export async function sampleRecords({ kafka, admin, topic, n }) {
  const end = (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  const out = [];
  if (end === 0) return out;
  const consumer = kafka.consumer({ groupId: `${topic}.bench-sample.${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (out.length < n && m.value) out.push({ key: m.key, value: m.value });
    },
  });
  const deadline = Date.now() + 20_000;
  while (out.length < Math.min(n, end) && Date.now() < deadline) await sleep(50);
  await consumer.disconnect();
  return out;
}

/** The platform's producer settings (libs/kafka): idempotent, one request in flight, acks=all, no compression. */
const platformProducer = (kafka) =>
  kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });

/** Bare kafkajs produce of the run's raw records to a scratch topic: the collector's ceiling. */
export async function produceCeiling({ kafka, topic, records, seconds, batchSize = 500, concurrency = 4 }) {
  const producer = platformProducer(kafka);
  await producer.connect();
  let sent = 0;
  let i = 0;
  const started = Date.now();
  const until = started + seconds * 1000;
  const loop = async () => {
    while (Date.now() < until) {
      const messages = Array.from({ length: batchSize }, () => records[i++ % records.length]);
      await producer.send({ topic, acks: -1, messages });
      sent += batchSize;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const sec = (Date.now() - started) / 1000;
  await producer.disconnect();
  return { eventsPerSec: sent / sec, records: sent, batchSize, concurrency };
}

/**
 * Bare consume-and-produce: eachBatch with manual commits after the acks, one partition at a
 * time, as the platform's consumer runner does, with no work in between. The consuming stages' ceiling.
 */
export async function passThroughCeiling({ kafka, from, to, groupId, seconds }) {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const producer = platformProducer(kafka);
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: from, fromBeginning: true });
  let count = 0;
  let first = 0;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (!first) first = Date.now();
      if (batch.messages.length === 0) return;
      await producer.send({ topic: to, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
      const last = batch.messages[batch.messages.length - 1].offset;
      resolveOffset(last);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      count += batch.messages.length;
    },
  });
  const deadline = Date.now() + 30_000;
  while (!first && Date.now() < deadline) await sleep(20);
  // Timed from the first batch: the group join is not throughput.
  const start = Date.now();
  const startCount = count;
  await sleep(seconds * 1000);
  const result = { eventsPerSec: (count - startCount) / ((Date.now() - start) / 1000), records: count - startCount };
  await consumer.disconnect();
  await producer.disconnect();
  return result;
}

/**
 * Bare unordered bulkWrite of upserts (a profile-like document per event) into the run's
 * database, twice: keyed by `_id` (what the database can do at best) and filtered on
 * `{workspaceId, profileId}` under a unique index, as the services' repositories query.
 * Plain inserts of the same documents are timed too, for comparison.
 */
export async function bulkUpsertCeiling({ mongoUrl, registryUrl, records, seconds, concurrency = 2, profiles = 20_000 }) {
  const registry = new SchemaRegistry({ host: registryUrl });
  const docs = [];
  for (const r of records.slice(0, 500)) {
    const raw = await registry.decode(r.value);
    const payload = JSON.parse(raw.payload);
    docs.push({ type: payload.type, traits: payload.traits ?? {}, properties: payload.properties ?? {}, context: payload.context ?? {} });
  }
  const client = await new MongoClient(mongoUrl).connect();
  const db = client.db();
  const update = (d) => ({
    $set: { traits: d.traits, lastEvent: d, updatedAt: new Date() },
    $inc: { version: 1 },
    $setOnInsert: { createdAt: new Date() },
  });
  const byId = db.collection('bench_ceiling_by_id');
  const upsertById = await timed(
    seconds,
    concurrency,
    (ops) => byId.bulkWrite(ops, { ordered: false }),
    (n) => ({
      updateOne: { filter: { _id: `bench:p_${n % profiles}` }, update: update(docs[n % docs.length]), upsert: true },
    }),
  );
  const byFields = db.collection('bench_ceiling_profiles');
  await byFields.createIndex({ workspaceId: 1, profileId: 1 }, { unique: true });
  const upsertByFields = await timed(
    seconds,
    concurrency,
    (ops) => byFields.bulkWrite(ops, { ordered: false }),
    (n) => ({
      updateOne: { filter: { workspaceId: 'bench', profileId: `p_${n % profiles}` }, update: update(docs[n % docs.length]), upsert: true },
    }),
  );
  const timeline = db.collection('bench_ceiling_events');
  const insert = await timed(
    seconds,
    concurrency,
    (batch) => timeline.insertMany(batch, { ordered: false }),
    (n) => ({
      workspaceId: 'bench',
      messageId: `m_${n}`,
      ...docs[n % docs.length],
    }),
  );
  await client.close();
  return {
    eventsPerSec: upsertById.perSec,
    records: upsertById.count,
    byFieldsPerSec: upsertByFields.perSec,
    bulkInsertPerSec: insert.perSec,
    maxBatch: upsertById.batchSize,
    concurrency,
    profiles,
  };
}

/**
 * Runs `concurrency` loops of `write(batch)` for about `seconds`. Batches start at 10 and double
 * up to 200 while a batch takes under a second, so a slow database cannot hold the run for minutes.
 */
async function timed(seconds, concurrency, write, make) {
  let count = 0;
  let i = 0;
  let batchSize = 10;
  const started = Date.now();
  const until = started + seconds * 1000;
  const loop = async () => {
    while (Date.now() < until) {
      const n = batchSize;
      const t = Date.now();
      await write(Array.from({ length: n }, () => make(i++)));
      count += n;
      if (Date.now() - t < 1000 && batchSize < 200) batchSize *= 2;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { count, perSec: count / ((Date.now() - started) / 1000), batchSize };
}
