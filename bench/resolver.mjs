#!/usr/bin/env node
// `node bench/resolver.mjs [--quick] [--no-build] [--reps=N] [--events=N] [--fuzzy] [--root=DIR]`: the identity-resolver
// alone (issue #5's target: deterministic resolution at least half of a bare "one bulk find plus one
// bulk upsert per batch" loop). Pre-produces a backlog of normalized events (journeys of
// bench/lib/workload.mjs, Avro through the registry as the normalizer writes them), then per rep:
// the built resolver drains it into a fresh database (events/s from its group's committed offsets,
// between 10% and 90% of the backlog), then the bare loop drains the same records in the same chunks
// against the same database server. Fuzzy matching is switched off for the workspace (deterministic
// resolution) unless --fuzzy. `--root=DIR` runs DIR/dist/apps/identity-resolver/main.js (another build; implies
// --no-build). Writes bench/results/resolver-latest.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseArgs } from './lib/args.mjs';
import { TOPICS } from './lib/sampler.mjs';
import { keyId, profileIdFor } from './lib/seed.mjs';
import { benchScope, endpoints, prepare, startService } from './lib/services.mjs';
import { bareStage, dropScopeTopics, platformProducer, registerSchema, watchGroup } from './lib/stage.mjs';
import { Workload } from './lib/workload.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { args, num } = parseArgs(process.argv.slice(2));
const serviceRoot = args.root ? resolve(args.root) : root;
const cfg = {
  reps: num('reps', 3, 1),
  events: num('events', 30_000, 6_000),
  partitions: num('partitions', 3, 3),
  chunk: 500, // libs/kafka consumer-runner's chunk size
  partitionsConcurrently: 3, // CDP_CONSUMER_CONCURRENCY's default
  window: [0.1, 0.9], // shares of the backlog committed: the measured window (warm-up before, ragged tail after)
  fuzzy: args.fuzzy === 'true',
  port: num('port', 3833, 3833),
};
const WORKSPACE = 'bench';
const t0 = Date.now();
const log = (m) => console.log(`[bench:resolver ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A Segment message as the normalizer writes it (cleaned fields, JSON maps). */
function normalized(m, seq) {
  const at = Date.UTC(2026, 0, 1) + seq * 100;
  return {
    workspaceId: WORKSPACE,
    sourceId: 'web',
    messageId: m.messageId,
    type: m.type,
    event: m.event ?? null,
    name: m.name ?? null,
    userId: m.userId ?? null,
    anonymousId: m.anonymousId ?? null,
    groupId: m.groupId ?? null,
    previousId: m.previousId ?? null,
    timestamp: at,
    receivedAt: at,
    traits: JSON.stringify(m.traits ?? {}),
    properties: JSON.stringify(m.properties ?? {}),
    context: JSON.stringify(m.context ?? {}),
    violations: [],
  };
}

async function produceBacklog({ kafka, registry, schemaId, topic, n, runId }) {
  const workload = new Workload({ runId, seed: 11, active: 200 });
  const producer = platformProducer(kafka);
  await producer.connect();
  for (let i = 0; i < n; i += 500) {
    const messages = [];
    for (const m of workload.batch(Math.min(500, n - i))) {
      const e = normalized(m, i + messages.length);
      messages.push({ key: `${WORKSPACE}:${e.anonymousId ?? e.userId ?? e.messageId}`, value: await registry.encode(schemaId, e) });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  return workload.mix;
}

/**
 * The graph the resolver left (read whole, after the run): identities, profile documents, those
 * merged away, people (live profiles that identifiers lead to) and empty live profiles (created
 * by an attempt that then lost a claim race and was decided again; nothing points to them).
 */
async function graphSummary(db) {
  const ids = await db
    .collection('identities')
    .find({}, { projection: { profileId: 1 } })
    .toArray();
  const profiles = await db
    .collection('identity_profiles')
    .find({}, { projection: { profileId: 1, mergedInto: 1 } })
    .toArray();
  const into = new Map(profiles.map((p) => [p.profileId, p.mergedInto ?? null]));
  const canonical = (p) => {
    for (let i = 0; i < 64 && into.get(p); i++) p = into.get(p);
    return p;
  };
  const people = new Set(ids.map((i) => canonical(i.profileId)));
  const live = profiles.filter((p) => !p.mergedInto);
  return {
    identities: ids.length,
    profiles: profiles.length,
    merged: profiles.length - live.length,
    people: people.size,
    orphans: live.filter((p) => !people.has(p.profileId)).length,
  };
}

/** The resolver's own counters: records handled on the input topic, database commands by command. */
async function scrape(url, input) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const lines = text.split('\n');
  const handled = lines
    .filter((l) => l.startsWith('cdp_records_processed_total{') && l.includes(`topic="${input}"`))
    .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
  const commands = {};
  for (const l of lines.filter((x) => x.startsWith('cdp_db_commands_total{'))) {
    const c = /command="([^"]+)"/.exec(l)[1];
    commands[c] = (commands[c] ?? 0) + Number(l.split(' ').at(-1));
  }
  return { handled, commands };
}

function commandsPerEvent(a, b) {
  const events = b.handled - a.handled;
  const per = {};
  for (const [c, n] of Object.entries(b.commands)) {
    const d = n - (a.commands[c] ?? 0);
    if (d > 0) per[c] = d / Math.max(1, events);
  }
  return { events, total: Object.values(per).reduce((x, y) => x + y, 0), byCommand: per };
}

/** The identifiers the bare loop maps: user id, anonymous id, email (lower-cased), phone, as extractIdentifiers does. */
function identifiersOf(e) {
  const traits = JSON.parse(e.traits);
  const out = [];
  if (e.userId) out.push({ type: 'user_id', value: e.userId.trim() });
  if (e.anonymousId) out.push({ type: 'anonymous_id', value: e.anonymousId.trim() });
  if (typeof traits.email === 'string' && traits.email.trim()) out.push({ type: 'email', value: traits.email.trim().toLowerCase() });
  if (typeof traits.phone === 'string' && traits.phone.trim()) out.push({ type: 'phone', value: traits.phone.trim() });
  return out;
}
const STRENGTH = ['user_id', 'email', 'phone', 'anonymous_id'];

/**
 * The ceiling: a bare consumer with the resolver's settings (eachBatch, manual commits, chunks of
 * 500, 3 partitions at once) that per chunk decodes the records, sends ONE find by `_id: {$in}` of
 * the identifier documents the chunk names and ONE unordered bulkWrite of upserts by `_id`
 * ($setOnInsert identifier -> profile id, for those not found), produces the records unchanged
 * (acks=all) and commits. No profiles, merges, limits or retries: what the issue calls the bare loop.
 */
async function bareLoop({ kafka, registry, collection, from, to, groupId }) {
  const commands = { find: 0, update: 0 };
  const work = async (messages) => {
    const events = [];
    for (const m of messages) events.push(await registry.decode(m.value));
    const named = new Map();
    for (const e of events) for (const id of identifiersOf(e)) named.set(keyId(WORKSPACE, id.type, id.value), id);
    const known = new Map();
    commands.find++;
    for (const d of await collection.find({ _id: { $in: [...named.keys()] } }, { projection: { profileId: 1 } }).toArray())
      known.set(d._id, d.profileId);
    // Each new identifier goes to the profile of a known identifier of its event, else to one derived from the strongest.
    const fresh = new Map();
    for (const e of events) {
      const ids = identifiersOf(e).map((id) => ({ ...id, _id: keyId(WORKSPACE, id.type, id.value) }));
      const strongest = [...ids].sort((x, y) => STRENGTH.indexOf(x.type) - STRENGTH.indexOf(y.type))[0];
      const profileId =
        ids.map((id) => known.get(id._id) ?? fresh.get(id._id)?.profileId).find(Boolean) ?? profileIdFor(WORKSPACE, strongest);
      for (const id of ids) if (!known.has(id._id) && !fresh.has(id._id)) fresh.set(id._id, { ...id, profileId });
    }
    if (fresh.size) {
      commands.update++;
      const now = new Date();
      await collection.bulkWrite(
        [...fresh.values()].map(({ _id, type, value, profileId }) => ({
          updateOne: {
            filter: { _id },
            update: { $setOnInsert: { workspaceId: WORKSPACE, type, value, profileId, createdAt: now } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    }
  };
  const stage = await bareStage({ kafka, groupId, from, to, partitions: cfg.partitionsConcurrently, chunk: cfg.chunk, work });
  return { commands, stop: stage.stop };
}

async function main() {
  prepare(root, { build: args['no-build'] !== 'true', services: ['identity-resolver'], serviceRoot, log });
  const scope = benchScope(cfg.partitions);
  const { kafkaBrokers, registryUrl } = endpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-bench-resolver', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const registry = new SchemaRegistry({ host: registryUrl });
  const input = scope.namespace + TOPICS.normalized;
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
    const schemaId = await registerSchema({ root, registryUrl, topic: input, contract: 'cdp.events.normalized.v1' });
    const producing = Date.now();
    const mix = await produceBacklog({ kafka, registry, schemaId, topic: input, n: cfg.events, runId: scope.id });
    log(`backlog of ${cfg.events} normalized events in ${((Date.now() - producing) / 1000).toFixed(1)} s: ${JSON.stringify(mix)}`);
    const reps = [];
    for (let rep = 1; rep <= cfg.reps; rep++) {
      const database = `${scope.database}_r${rep}`;
      databases.push(database);
      const db = client.db(database);
      // Deterministic resolution: no fuzzy matching for the workspace (written before the resolver reads its rules).
      if (!cfg.fuzzy)
        await db
          .collection('identity_rules')
          .insertOne({ _id: WORKSPACE, workspaceId: WORKSPACE, rules: { fuzzy: { enabled: false } }, updatedAt: new Date() });
      const groupId = `${scope.namespace}cdp.identity-resolver`;
      if (rep > 1) await admin.resetOffsets({ groupId, topic: input, earliest: true });
      const resolver = await startService(serviceRoot, 'identity-resolver', cfg.port, { ...scope.env, MONGO_URL: dbUrl(database) });
      let measured;
      let metrics;
      try {
        const scrapes = {};
        measured = await watchGroup({
          admin,
          groupId,
          topic: input,
          total: cfg.events,
          pid: resolver.pid,
          window: cfg.window,
          onCross: async (share) => (scrapes[share] = await scrape(resolver.url, input)),
        });
        metrics = commandsPerEvent(scrapes[cfg.window[0]], scrapes[cfg.window[1]]);
      } finally {
        await resolver.stop();
      }
      const { identities, profiles, merged, people, orphans } = await graphSummary(db);
      log(
        `rep ${rep}: resolver ${measured.eventsPerSec.toFixed(0)} events/s (drained in ${measured.drainSeconds.toFixed(1)} s), ${measured.cpuCores?.toFixed(2)} cores, RSS ${measured.rssMbMax?.toFixed(0)} MB, ${metrics.total.toFixed(2)} db commands/event ${JSON.stringify(Object.fromEntries(Object.entries(metrics.byCommand).map(([c, v]) => [c, +v.toFixed(2)])))}; ${identities} identities, ${profiles} profiles (${merged} merged, ${people} people, ${orphans} empty)`,
      );
      const ceilingCollection = db.collection('bench_ceiling_identities');
      // The same indexes as the resolver's `identities`, so both pay the same index upkeep.
      await ceilingCollection.createIndexes([
        { key: { workspaceId: 1, type: 1, value: 1 }, name: 'identity_unique', unique: true },
        { key: { workspaceId: 1, profileId: 1 }, name: 'identity_by_profile' },
      ]);
      const cpu0 = process.cpuUsage();
      const ceilingGroup = `${scope.namespace}bench.ceiling.${rep}`;
      const loop = await bareLoop({
        kafka,
        registry,
        collection: ceilingCollection,
        from: input,
        to: `${scope.namespace}bench.ceiling.out`,
        groupId: ceilingGroup,
      });
      let ceiling;
      try {
        ceiling = await watchGroup({ admin, groupId: ceilingGroup, topic: input, total: cfg.events, window: cfg.window });
      } finally {
        await loop.stop();
      }
      const cpu = process.cpuUsage(cpu0);
      const r = {
        rep,
        eventsPerSec: measured.eventsPerSec,
        drainSeconds: measured.drainSeconds,
        resolverCpuCores: measured.cpuCores,
        resolverRssMbMax: measured.rssMbMax,
        dbCommandsPerEvent: metrics.total,
        dbCommandsByCommand: metrics.byCommand,
        graph: { identities, profiles, merged, people, orphans },
        ceilingEventsPerSec: ceiling.eventsPerSec,
        ceilingDrainSeconds: ceiling.drainSeconds,
        ceilingCommands: loop.commands,
        ceilingBenchCpuSec: (cpu.user + cpu.system) / 1e6,
      };
      r.ratio = r.eventsPerSec / r.ceilingEventsPerSec;
      log(
        `rep ${rep}: bare loop ${ceiling.eventsPerSec.toFixed(0)} events/s (drained in ${ceiling.drainSeconds.toFixed(1)} s, ${loop.commands.find} finds, ${loop.commands.update} bulk upserts), ratio ${r.ratio.toFixed(2)}`,
      );
      reps.push(r);
      await db.dropDatabase();
    }
    const result = {
      startedAt: new Date(t0).toISOString(),
      config: cfg,
      mix,
      eventsPerSec: median(reps.map((r) => r.eventsPerSec)),
      ceilingEventsPerSec: median(reps.map((r) => r.ceilingEventsPerSec)),
      ratio: median(reps.map((r) => r.ratio)),
      resolverCpuCores: median(reps.map((r) => r.resolverCpuCores)),
      resolverRssMbMax: median(reps.map((r) => r.resolverRssMbMax)),
      dbCommandsPerEvent: median(reps.map((r) => r.dbCommandsPerEvent)),
      reps,
    };
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'resolver-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, 'resolver-latest.md'), markdown(result));
    log(
      `median ${result.eventsPerSec.toFixed(0)} events/s, bare loop ${result.ceilingEventsPerSec.toFixed(0)}/s, ratio ${result.ratio.toFixed(2)} (target 0.5), ${result.dbCommandsPerEvent.toFixed(2)} db commands/event`,
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
      `| ${x.rep} | ${x.eventsPerSec.toFixed(0)} | ${x.ceilingEventsPerSec.toFixed(0)} | ${x.ratio.toFixed(2)} | ${x.resolverCpuCores?.toFixed(2)} | ${x.resolverRssMbMax?.toFixed(0)} | ${x.dbCommandsPerEvent.toFixed(2)} |`,
  );
  return `# Identity-resolver alone (${r.startedAt})

A backlog of ${r.config.events.toLocaleString('en')} normalized events (journeys: anonymous browsing on 1-3 devices, identify with user id, email,
phone, orders, CRM rows that merge), ${r.config.partitions} partitions, fuzzy matching ${r.config.fuzzy ? 'on' : 'off'}; events/s from the
committed offsets between ${r.config.window[0] * 100}% and ${r.config.window[1] * 100}% of the backlog, each rep into a fresh database.
The ceiling, in the same run against the same database server: a bare consumer in the same chunks of ${r.config.chunk}
that per chunk decodes, sends one find by \`_id: {$in}\` of the chunk's identifier documents and one unordered bulkWrite
of upserts by \`_id\`, produces the records unchanged (acks=all) and commits.

| rep | resolver events/s | bare loop events/s | ratio | resolver cores | RSS MB max | db commands/event |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Median: **${r.eventsPerSec.toFixed(0)} events/s**, bare loop ${r.ceilingEventsPerSec.toFixed(0)} events/s, ratio **${r.ratio.toFixed(2)}** (target 0.5).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
