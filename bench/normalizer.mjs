#!/usr/bin/env node
// `node bench/normalizer.mjs [--quick] [--no-build] [--reps=N] [--events=N] [--root=DIR]`: the normalizer alone
// (issue #4's target: throughput at least half of a bare consume-and-produce pass-through of the
// same records in the same run). Pre-produces a backlog of raw events as the collector writes them
// (journeys of bench/lib/workload.mjs, the Segment message as JSON in the cdp.events.raw.v1 Avro
// envelope, through the registry), then per rep: the built normalizer drains it into a fresh
// database (events/s from its group's committed offsets between 10% and 90% of the backlog), then a
// bare consumer with the same consumer settings passes the same records through unchanged.
// `--root=DIR` runs DIR/dist/apps/normalizer/main.js (another build; implies --no-build).
// CDP_BENCH_PROFILE_DIR=dir writes the normalizer's V8 CPU profile there (bench/lib/services.mjs).
// Writes bench/results/normalizer-latest.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseArgs } from './lib/args.mjs';
import { TOPICS } from './lib/sampler.mjs';
import { benchScope, endpoints, prepare, startService } from './lib/services.mjs';
import { bareStage, dropScopeTopics, platformProducer, registerSchema, watchGroup } from './lib/stage.mjs';
import { Workload } from './lib/workload.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { args, num } = parseArgs(process.argv.slice(2));
const serviceRoot = args.root ? resolve(args.root) : root;
const cfg = {
  reps: num('reps', 3, 1),
  events: num('events', 40_000, 10_000),
  partitions: num('partitions', 3, 3),
  chunk: 500, // libs/kafka consumer-runner's chunk size
  partitionsConcurrently: 3, // CDP_CONSUMER_CONCURRENCY's default
  window: [0.1, 0.9], // shares of the backlog committed: the measured window (warm-up before, ragged tail after)
  port: num('port', 3832, 3832),
};
const WORKSPACE = 'bench';
const t0 = Date.now();
const log = (m) => console.log(`[bench:normalizer ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The raw envelope as the collector's event writer fills it: the message verbatim as JSON. */
const raw = (m, receivedAt) => ({
  workspaceId: WORKSPACE,
  sourceId: 'web',
  messageId: m.messageId,
  type: m.type,
  receivedAt,
  payload: JSON.stringify({ ...m, context: { ...(m.context ?? {}), ip: '203.0.113.7' } }),
});

async function produceBacklog({ kafka, registry, schemaId, topic, n, runId }) {
  const workload = new Workload({ runId, seed: 13, active: 200 });
  const producer = platformProducer(kafka);
  await producer.connect();
  const receivedAt = Date.now();
  for (let i = 0; i < n; i += 500) {
    const messages = [];
    for (const m of workload.batch(Math.min(500, n - i)))
      messages.push({
        key: `${WORKSPACE}:${m.anonymousId ?? m.userId ?? m.messageId}`,
        value: await registry.encode(schemaId, raw(m, receivedAt)),
      });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  return workload.mix;
}

/** The normalizer's own counters: records handled on the input topic, database commands, seconds per stage, outcomes. */
async function scrape(url, input) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const lines = text.split('\n');
  const sum = (prefix, label) => {
    const out = {};
    for (const l of lines.filter((x) => x.startsWith(prefix))) {
      const m = new RegExp(`${label}="([^"]*)"`).exec(l);
      const k = m ? m[1] : '';
      out[k] = (out[k] ?? 0) + Number(l.split(' ').at(-1));
    }
    return out;
  };
  const handled = lines
    .filter((l) => l.startsWith('cdp_records_processed_total{') && l.includes(`topic="${input}"`))
    .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
  return {
    handled,
    commands: sum('cdp_db_commands_total{', 'command'),
    stageSeconds: sum('cdp_normalizer_stage_seconds_sum{', 'stage'),
    outcomes: sum('cdp_normalizer_events_total{', 'outcome'),
  };
}

/** Per event between two scrapes: database commands by command, and milliseconds per stage. */
function perEvent(a, b) {
  const events = Math.max(1, b.handled - a.handled);
  const delta = (x, y, scale = 1) =>
    Object.fromEntries(
      Object.entries(y)
        .map(([k, v]) => [k, ((v - (x[k] ?? 0)) * scale) / events])
        .filter(([, v]) => v > 0),
    );
  const byCommand = delta(a.commands, b.commands);
  return {
    events,
    dbCommands: Object.values(byCommand).reduce((s, v) => s + v, 0),
    byCommand,
    stageMsPerEvent: delta(a.stageSeconds, b.stageSeconds, 1000),
  };
}

async function main() {
  prepare(root, { build: args['no-build'] !== 'true', services: ['normalizer'], serviceRoot, log });
  const scope = benchScope(cfg.partitions);
  const { kafkaBrokers, registryUrl } = endpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-bench-normalizer', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const registry = new SchemaRegistry({ host: registryUrl });
  const input = scope.namespace + TOPICS.raw;
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
    const schemaId = await registerSchema({ root, registryUrl, topic: input, contract: 'cdp.events.raw.v1' });
    const producing = Date.now();
    const mix = await produceBacklog({ kafka, registry, schemaId, topic: input, n: cfg.events, runId: scope.id });
    log(`backlog of ${cfg.events} raw events in ${((Date.now() - producing) / 1000).toFixed(1)} s: ${JSON.stringify(mix)}`);
    const reps = [];
    for (let rep = 1; rep <= cfg.reps; rep++) {
      // A fresh database per rep: the previous rep's dedupe entries would make every event a duplicate.
      const database = `${scope.database}_r${rep}`;
      databases.push(database);
      const groupId = `${scope.namespace}cdp.normalizer`;
      if (rep > 1) await admin.resetOffsets({ groupId, topic: input, earliest: true });
      const normalizer = await startService(serviceRoot, 'normalizer', cfg.port, { ...scope.env, MONGO_URL: dbUrl(database) });
      let measured;
      let metrics;
      let outcomes;
      try {
        const scrapes = {};
        measured = await watchGroup({
          admin,
          groupId,
          topic: input,
          total: cfg.events,
          pid: normalizer.pid,
          window: cfg.window,
          onCross: async (share) => (scrapes[share] = await scrape(normalizer.url, input)),
        });
        metrics = perEvent(scrapes[cfg.window[0]], scrapes[cfg.window[1]]);
        outcomes = (await scrape(normalizer.url, input)).outcomes;
      } finally {
        await normalizer.stop();
      }
      const round2 = (o) => JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, +v.toFixed(3)])));
      log(
        `rep ${rep}: normalizer ${measured.eventsPerSec.toFixed(0)} events/s (drained in ${measured.drainSeconds.toFixed(1)} s), ${measured.cpuCores?.toFixed(2)} cores, RSS ${measured.rssMbMax?.toFixed(0)} MB, ${metrics.dbCommands.toFixed(3)} db commands/event ${round2(metrics.byCommand)}, ms/event by stage ${round2(metrics.stageMsPerEvent)}, outcomes ${JSON.stringify(outcomes)}`,
      );
      const ceilingGroup = `${scope.namespace}bench.ceiling.${rep}`;
      const cpu0 = process.cpuUsage();
      const stage = await bareStage({
        kafka,
        groupId: ceilingGroup,
        from: input,
        to: `${scope.namespace}bench.ceiling.out`,
        partitions: cfg.partitionsConcurrently,
        chunk: cfg.chunk,
        work: async () => undefined,
      });
      let ceiling;
      try {
        ceiling = await watchGroup({ admin, groupId: ceilingGroup, topic: input, total: cfg.events, window: cfg.window });
      } finally {
        await stage.stop();
      }
      const cpu = process.cpuUsage(cpu0);
      const r = {
        rep,
        eventsPerSec: measured.eventsPerSec,
        drainSeconds: measured.drainSeconds,
        normalizerCpuCores: measured.cpuCores,
        normalizerRssMbMax: measured.rssMbMax,
        dbCommandsPerEvent: metrics.dbCommands,
        dbCommandsByCommand: metrics.byCommand,
        stageMsPerEvent: metrics.stageMsPerEvent,
        outcomes,
        ceilingEventsPerSec: ceiling.eventsPerSec,
        ceilingDrainSeconds: ceiling.drainSeconds,
        ceilingBenchCpuSec: (cpu.user + cpu.system) / 1e6,
      };
      r.ratio = r.eventsPerSec / r.ceilingEventsPerSec;
      log(
        `rep ${rep}: pass-through ${ceiling.eventsPerSec.toFixed(0)} events/s (drained in ${ceiling.drainSeconds.toFixed(1)} s), ratio ${r.ratio.toFixed(2)}`,
      );
      reps.push(r);
      await client.db(database).dropDatabase();
    }
    const result = {
      startedAt: new Date(t0).toISOString(),
      config: cfg,
      serviceRoot,
      mix,
      eventsPerSec: median(reps.map((r) => r.eventsPerSec)),
      ceilingEventsPerSec: median(reps.map((r) => r.ceilingEventsPerSec)),
      ratio: median(reps.map((r) => r.ratio)),
      normalizerCpuCores: median(reps.map((r) => r.normalizerCpuCores)),
      normalizerRssMbMax: median(reps.map((r) => r.normalizerRssMbMax)),
      dbCommandsPerEvent: median(reps.map((r) => r.dbCommandsPerEvent)),
      reps,
    };
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'normalizer-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, 'normalizer-latest.md'), markdown(result));
    log(
      `median ${result.eventsPerSec.toFixed(0)} events/s, pass-through ${result.ceilingEventsPerSec.toFixed(0)}/s, ratio ${result.ratio.toFixed(2)} (target 0.5), ${result.dbCommandsPerEvent.toFixed(3)} db commands/event`,
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
      `| ${x.rep} | ${x.eventsPerSec.toFixed(0)} | ${x.ceilingEventsPerSec.toFixed(0)} | ${x.ratio.toFixed(2)} | ${x.normalizerCpuCores?.toFixed(2)} | ${x.normalizerRssMbMax?.toFixed(0)} | ${x.dbCommandsPerEvent.toFixed(3)} |`,
  );
  return `# Normalizer alone (${r.startedAt})

A backlog of ${r.config.events.toLocaleString('en')} raw events as the collector writes them (journeys: anonymous browsing on 1-3
devices, identify with user id, email, phone, orders, CRM rows; Avro envelope with the Segment message as JSON),
${r.config.partitions} partitions, one workspace with default settings; events/s from the committed offsets between
${r.config.window[0] * 100}% and ${r.config.window[1] * 100}% of the backlog, each rep into a fresh database. The ceiling, in the same
run: a bare consumer with the normalizer's consumer settings (eachBatch, chunks of ${r.config.chunk}, ${r.config.partitionsConcurrently} partitions
at once, manual commits) that produces the same records unchanged (acks=all) and commits.

| rep | normalizer events/s | pass-through events/s | ratio | normalizer cores | RSS MB max | db commands/event |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Median: **${r.eventsPerSec.toFixed(0)} events/s**, pass-through ${r.ceilingEventsPerSec.toFixed(0)} events/s, ratio **${r.ratio.toFixed(2)}** (target 0.5).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
