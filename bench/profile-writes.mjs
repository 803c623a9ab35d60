#!/usr/bin/env node
// `npm run bench:profile-writes [-- --quick] [--no-build] [--reps=N] [--events=N] [--root=DIR]`: the
// profile-store's write path alone (issue #6's target: throughput at least half of a bare bulk-upsert
// loop of the same documents). Pre-produces a backlog of resolved events (people with an identify,
// product views, pages and orders, Avro through the registry as the identity-resolver writes them),
// then per rep: the built profile-store drains it into a fresh database (events/s from its group's
// committed offsets between 10% and 90% of the backlog), then a bare loop drains the same records in
// the same chunks: per chunk ONE unordered bulk upsert by `_id` of a profile document per person
// (traits set, counters incremented), the records produced on unchanged (acks=all), commit.
// `--root=DIR` runs DIR/dist/apps/profile-store/main.js (another build, e.g. a worktree of an older
// commit; implies --no-build). Writes bench/results/profile-writes-latest.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseArgs } from './lib/args.mjs';
import { TOPICS } from './lib/sampler.mjs';
import { keyId } from './lib/seed.mjs';
import { benchScope, endpoints, prepare, startService } from './lib/services.mjs';
import { bareStage, dropScopeTopics, platformProducer, registerSchema, watchGroup } from './lib/stage.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { args, num } = parseArgs(process.argv.slice(2));
const serviceRoot = args.root ? resolve(args.root) : root;
const cfg = {
  reps: num('reps', 3, 1),
  events: num('events', 30_000, 6_000),
  eventsPerPerson: 6,
  partitions: 3,
  port: num('port', 3834, 3834),
};
const WORKSPACE = 'bench';
const t0 = Date.now();
const log = (m) => console.log(`[bench:profile-writes ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Person i's k-th event as the identity-resolver writes it (cdp.events.resolved.v1). */
function resolved(i, k, seq) {
  const profileId = `p_bench_${i}`;
  const at = Date.UTC(2026, 0, 1) + seq * 100;
  const base = {
    workspaceId: WORKSPACE,
    profileId,
    identifiers: [{ type: 'anonymous_id', value: `anon-${i}` }],
    sourceId: 'web',
    messageId: `pw-${i}-${k}`,
    type: 'track',
    event: null,
    name: null,
    userId: null,
    anonymousId: `anon-${i}`,
    groupId: null,
    timestamp: at,
    receivedAt: at,
    traits: '{}',
    properties: '{}',
    context: '{}',
  };
  if (k === 0)
    return {
      ...base,
      type: 'identify',
      userId: `user-${i}`,
      identifiers: [
        { type: 'user_id', value: `user-${i}` },
        { type: 'anonymous_id', value: `anon-${i}` },
        { type: 'email', value: `person${i}@example.com` },
      ],
      traits: JSON.stringify({ email: `person${i}@example.com`, firstName: `Name${i}`, country: i % 5 === 0 ? 'DE' : 'US', plan: 'free' }),
    };
  if (k === cfg.eventsPerPerson - 1)
    return { ...base, event: 'Order Completed', properties: JSON.stringify({ orderId: `o-${i}`, total: 20 + (i % 200), currency: 'USD' }) };
  if (k % 2 === 0) return { ...base, type: 'page', name: 'Home', properties: JSON.stringify({ path: '/', title: 'Home' }) };
  return { ...base, event: 'Product Viewed', properties: JSON.stringify({ productId: `sku-${(i + k) % 300}`, price: 19.99 }) };
}

/** People's events interleaved (20 people in flight), so a chunk holds several events of a person. */
async function produceBacklog({ kafka, registry, schemaId, topic }) {
  const producer = platformProducer(kafka);
  await producer.connect();
  const people = Math.ceil(cfg.events / cfg.eventsPerPerson);
  const events = [];
  for (let g = 0; g < people; g += 20)
    for (let k = 0; k < cfg.eventsPerPerson; k++)
      for (let i = g; i < Math.min(people, g + 20); i++) if (events.length < cfg.events) events.push(resolved(i, k, events.length));
  for (let i = 0; i < events.length; i += 500) {
    const messages = await Promise.all(
      events.slice(i, i + 500).map(async (e) => ({ key: `${WORKSPACE}:${e.profileId}`, value: await registry.encode(schemaId, e) })),
    );
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  return people;
}

/**
 * The ceiling: a bare consumer with the service's settings (eachBatch, manual commits, chunks of
 * 500, partitions at once) that per chunk decodes the records, writes ONE unordered bulkWrite of
 * upserts by `_id` (a profile document per person: traits set, event counters incremented), produces
 * the records unchanged (acks=all) and commits. No reads, compare-and-set, identifiers or timeline.
 */
async function bareLoop({ kafka, registry, collection, from, to, groupId }) {
  let bulks = 0;
  const work = async (messages) => {
    const byProfile = new Map();
    for (const m of messages) {
      const e = await registry.decode(m.value);
      const doc = byProfile.get(e.profileId) ?? { traits: {}, counts: {} };
      Object.assign(doc.traits, JSON.parse(e.traits));
      const name = e.event ?? e.type;
      doc.counts[`stats.eventCounts.${name}`] = (doc.counts[`stats.eventCounts.${name}`] ?? 0) + 1;
      doc.last = e;
      byProfile.set(e.profileId, doc);
    }
    bulks++;
    await collection.bulkWrite(
      [...byProfile].map(([profileId, d]) => ({
        updateOne: {
          filter: { _id: keyId(WORKSPACE, profileId) },
          update: {
            $set: {
              workspaceId: WORKSPACE,
              profileId,
              ...Object.fromEntries(Object.entries(d.traits).map(([k, v]) => [`traits.${k}`, v])),
              lastEvent: d.last.messageId,
              updatedAt: Date.now(),
            },
            $inc: { version: 1, ...d.counts },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  };
  const stage = await bareStage({ kafka, groupId, from, to, partitions: cfg.partitions, work });
  return { bulks: () => bulks, stop: stage.stop };
}

async function main() {
  prepare(root, { build: args['no-build'] !== 'true', services: ['profile-store'], serviceRoot, log });
  const scope = benchScope(cfg.partitions);
  const { kafkaBrokers, registryUrl } = endpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-bench-profile-writes', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const registry = new SchemaRegistry({ host: registryUrl });
  const input = scope.namespace + TOPICS.resolved;
  const databases = [];
  const dbUrl = (name) => Object.assign(new URL(scope.mongoUrl), { pathname: `/${name}` }).toString();
  const client = await new MongoClient(scope.mongoUrl).connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [input, `${scope.namespace}bench.ceiling.out`].map((topic) => ({
        topic,
        numPartitions: cfg.partitions,
        replicationFactor: 1,
      })),
    });
    const schemaId = await registerSchema({ root, registryUrl, topic: input, contract: 'cdp.events.resolved.v1' });
    const producing = Date.now();
    const people = await produceBacklog({ kafka, registry, schemaId, topic: input });
    log(`backlog of ${cfg.events} resolved events of ${people} people in ${((Date.now() - producing) / 1000).toFixed(1)} s`);
    const reps = [];
    for (let rep = 1; rep <= cfg.reps; rep++) {
      const database = `${scope.database}_r${rep}`;
      databases.push(database);
      const db = client.db(database);
      const groupId = `${scope.namespace}cdp.profile-store`;
      if (rep > 1) await admin.resetOffsets({ groupId, topic: input, earliest: true });
      const store = await startService(serviceRoot, 'profile-store', cfg.port, { ...scope.env, MONGO_URL: dbUrl(database) });
      let measured;
      try {
        measured = await watchGroup({ admin, groupId, topic: input, total: cfg.events, pid: store.pid });
      } finally {
        await store.stop();
      }
      const stored = await db.collection('profiles').countDocuments({});
      log(
        `rep ${rep}: profile-store ${measured.eventsPerSec.toFixed(0)} events/s (drained in ${measured.drainSeconds.toFixed(1)} s), ${measured.cpuCores?.toFixed(2)} cores, RSS ${measured.rssMbMax?.toFixed(0)} MB; ${stored} profiles`,
      );
      const ceilingGroup = `${scope.namespace}bench.ceiling.${rep}`;
      const loop = await bareLoop({
        kafka,
        registry,
        collection: db.collection('bench_ceiling_profiles'),
        from: input,
        to: `${scope.namespace}bench.ceiling.out`,
        groupId: ceilingGroup,
      });
      let ceiling;
      try {
        ceiling = await watchGroup({ admin, groupId: ceilingGroup, topic: input, total: cfg.events });
      } finally {
        await loop.stop();
      }
      const r = {
        rep,
        eventsPerSec: measured.eventsPerSec,
        drainSeconds: measured.drainSeconds,
        storeCpuCores: measured.cpuCores,
        storeRssMbMax: measured.rssMbMax,
        profiles: stored,
        ceilingEventsPerSec: ceiling.eventsPerSec,
        ceilingDrainSeconds: ceiling.drainSeconds,
        ceilingBulks: loop.bulks(),
      };
      r.ratio = r.eventsPerSec / r.ceilingEventsPerSec;
      log(
        `rep ${rep}: bare loop ${ceiling.eventsPerSec.toFixed(0)} events/s (${r.ceilingBulks} bulk upserts), ratio ${r.ratio.toFixed(2)}`,
      );
      reps.push(r);
      await db.dropDatabase();
    }
    const result = {
      startedAt: new Date(t0).toISOString(),
      config: { ...cfg, root: serviceRoot },
      eventsPerSec: median(reps.map((r) => r.eventsPerSec)),
      ceilingEventsPerSec: median(reps.map((r) => r.ceilingEventsPerSec)),
      ratio: median(reps.map((r) => r.ratio)),
      storeCpuCores: median(reps.map((r) => r.storeCpuCores)),
      storeRssMbMax: median(reps.map((r) => r.storeRssMbMax)),
      reps,
    };
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'profile-writes-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, 'profile-writes-latest.md'), markdown(result));
    log(
      `median ${result.eventsPerSec.toFixed(0)} events/s, bare loop ${result.ceilingEventsPerSec.toFixed(0)}/s, ratio ${result.ratio.toFixed(2)} (target 0.5)`,
    );
  } finally {
    for (const d of databases)
      await client
        .db(d)
        .dropDatabase()
        .catch(() => undefined);
    await client.close();
    await dropScopeTopics(admin, scope.namespace);
    await admin.disconnect();
  }
}

function markdown(r) {
  const rows = r.reps.map(
    (x) =>
      `| ${x.rep} | ${x.eventsPerSec.toFixed(0)} | ${x.ceilingEventsPerSec.toFixed(0)} | ${x.ratio.toFixed(2)} | ${x.storeCpuCores?.toFixed(2)} | ${x.storeRssMbMax?.toFixed(0)} |`,
  );
  return [
    `# Profile-store writes (${r.startedAt})`,
    '',
    `${r.config.events} resolved events, ${r.config.eventsPerPerson} per person, ${r.config.partitions} partitions. Median: **${r.eventsPerSec.toFixed(0)} events/s**, bare bulk-upsert loop ${r.ceilingEventsPerSec.toFixed(0)}/s, **ratio ${r.ratio.toFixed(2)}** (target 0.5).`,
    '',
    '| rep | events/s | bare loop/s | ratio | cores | RSS MB |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
