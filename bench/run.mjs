#!/usr/bin/env node
// The pipeline benchmark (brief section 3): `node bench/run.mjs [--quick] [--reps=N] [--no-build] ...`.
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bulkUpsertCeiling, passThroughCeiling, produceCeiling, sampleRecords } from './lib/ceilings.mjs';
import { percentiles, readSegmentChanges } from './lib/latency.mjs';
import { drive } from './lib/load.mjs';
import { summarize, writeReport } from './lib/report.mjs';
import { Sampler, TOPICS } from './lib/sampler.mjs';
import { seedStore, storageStats, workloadIds } from './lib/seed.mjs';
import { benchScope, endpoints, prepare, SERVICES, stackPids, startService } from './lib/services.mjs';
import { dbWorkPerEvent, scrapeDbWork } from './lib/db-work.mjs';
import { parseArgs } from './lib/args.mjs';
import { Workload } from './lib/workload.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { args, quick, num } = parseArgs(process.argv.slice(2));
const cfg = {
  mode: quick ? 'quick' : 'full',
  reps: num('reps', 3, 1),
  warmupSec: num('warmup', 20, 5),
  maxSec: num('duration', 60, 25),
  halfSec: num('half', 40, 15),
  drainSec: num('drain', 60, 15),
  ceilingSec: num('ceiling', 15, 6),
  batchSize: num('batch', 100, 100),
  concurrency: num('concurrency', 6, 6),
  lagCap: args['lag-cap'] ? Number(args['lag-cap']) : undefined,
  partitions: num('partitions', 3, 3),
  sessions: num('sessions', 100, 100),
  rate: args.rate ? Number(args.rate) : undefined,
  portBase: num('port-base', 3300, 3300),
  // V8 old-space cap of each service, MB, as the Helm chart sets it (maxOldSpaceSizeMb); 0: Node's
  // default, which on a machine with a lot of memory lets the heap grow long before it collects.
  heapMb: num('heap-mb', 0, 0),
  // People already in the store before the load (issue 8 item 4: cost as the data grows).
  store: num('store', 0, 0),
  storeMemberships: args['store-memberships'] !== 'false',
  writeKey: process.env.CDP_DEMO_WRITE_KEY || 'dev-write-key',
  apiKey: process.env.CDP_DEMO_API_KEY || 'dev-api-key',
};
// `matches` (left out of the request body by JSON.stringify) says which seeded people are members.
const SEGMENTS = [
  { name: 'Germany', definition: "trait('country') = 'DE'", matches: (t) => t.country === 'DE' },
  { name: 'Known email', definition: "trait('email') exists", matches: (t) => t.email !== undefined },
  // Every new profile enters it on its first event, so even a slow run yields latency samples.
  {
    name: 'Not sanctioned',
    definition: "not trait('country') in ['KP', 'IR', 'SY']",
    matches: (t) => !['KP', 'IR', 'SY'].includes(t.country),
  },
];
const WORKSPACE = 'demo'; // the workspace of the demo write key the bench sends with (libs/access DEMO_WORKSPACE)
cfg.segments = SEGMENTS;

const t0 = Date.now();
const log = (m) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForDrain(sampler, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const s = await sampler.sample();
    if (Object.values(s.lag).every((l) => l === 0)) return true;
    await sleep(250);
  }
  return false;
}

async function repetition(rep, kafka) {
  const scope = benchScope(cfg.partitions);
  const { registryUrl } = endpoints();
  const admin = kafka.admin();
  await admin.connect();
  const services = {};
  try {
    log(`rep ${rep}: starting services (namespace ${scope.namespace}, database ${scope.database})`);
    // allSettled: the services that did start are stopped in `finally` even when one fails.
    const starting = await Promise.allSettled(
      SERVICES.map((name, i) =>
        // One retry: concurrent first registrations of a subject can race in the registry.
        startService(root, name, cfg.portBase + i + 1, scope.env, { heapMb: cfg.heapMb }).catch((e) => {
          log(`rep ${rep}: ${name} failed to start (${String(e.message).split('\n')[0]}); retrying once`);
          return startService(root, name, cfg.portBase + i + 1, scope.env, { heapMb: cfg.heapMb });
        }),
      ),
    );
    for (const r of starting) if (r.status === 'fulfilled') services[r.value.name] = r.value;
    const failed = starting.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const started = Object.values(services);
    const segmentIds = [];
    for (const seg of SEGMENTS) {
      const res = await fetch(`${services.segmenter.url}/v1/segments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${cfg.apiKey}` },
        body: JSON.stringify(seg),
      });
      if (res.status !== 201) throw new Error(`creating segment ${seg.name}: ${res.status} ${await res.text()}`);
      segmentIds.push((await res.json()).id);
    }
    // Backfills start SEGMENT_CACHE_TTL_MS after a create: done before the load, so none runs in a measured window.
    await backfillsDone(services, segmentIds);
    const seeding = cfg.store > 0 ? await seed(scope, services) : undefined;
    // The stack's servers and this driver share the machine with the services: their CPU is measured too.
    const pids = { ...Object.fromEntries(started.map((s) => [s.name, s.pid])), ...stackPids(), 'bench driver': process.pid };
    const sampler = new Sampler({ admin, namespace: scope.namespace, pids });
    await sampler.start();
    const workload = new Workload({ runId: scope.id, seed: 1000 + rep, active: cfg.sessions });
    const load = (until, rate, batchSize = cfg.batchSize) =>
      drive({
        collectorUrl: services.collector.url,
        writeKey: cfg.writeKey,
        workload,
        batchSize,
        concurrency: cfg.concurrency,
        until,
        rate,
        // Default cap: about two seconds of what the pipeline currently finishes, so queues stay short.
        lagCap: () => cfg.lagCap ?? Math.max(cfg.batchSize, 2 * sampler.recentRate('segmenter')),
        lag: () => sampler.lastLag,
      });

    // Phase 1: warm-up then the maximum the pipeline sustains (or --rate), one continuous load.
    const phases = {};
    const loadStart = Date.now();
    const warmEnd = loadStart + cfg.warmupSec * 1000;
    const maxEnd = warmEnd + cfg.maxSec * 1000;
    log(`rep ${rep}: warm-up ${cfg.warmupSec}s, then ${cfg.rate ? `${cfg.rate} events/s` : 'maximum rate'} for ${cfg.maxSec}s`);
    const scrapeAll = () => Promise.all(started.map(async (s) => [s.name, await scrapeDbWork(s.url).catch(() => undefined)]));
    const dbAtWarmEnd = new Promise((resolve) => setTimeout(() => resolve(scrapeAll()), warmEnd - Date.now()));
    const maxStats = await load(maxEnd, cfg.rate);
    const [dbFrom, dbTo] = [Object.fromEntries(await dbAtWarmEnd), Object.fromEntries(await scrapeAll())];
    phases.max = { from: warmEnd, to: maxEnd, ...sampler.window(warmEnd, maxEnd), http: maxStats };
    // Database work per event each service consumed (the collector: per event accepted) in the window.
    phases.max.db = Object.fromEntries(
      started
        .filter((s) => dbFrom[s.name] && dbTo[s.name])
        .map((s) => [s.name, dbWorkPerEvent(dbFrom[s.name], dbTo[s.name], phases.max.stages[s.name].eventsPerSec * phases.max.seconds)]),
    );
    // The collector's own capacity: events accepted per second of requests in flight (per request slot).
    phases.max.stages.collector.busyEventsPerSec = maxStats.busyMs ? maxStats.accepted / (maxStats.busyMs / 1000 / cfg.concurrency) : null;
    const sustained = phases.max.stages.segmenter.eventsPerSec;
    const drainedMax = await waitForDrain(sampler, cfg.drainSec * 1000);
    phases.max.drainMs = Date.now() - maxEnd;
    phases.max.drained = drainedMax;

    // Phase 2: half the sustained rate, where the latency target is set.
    const halfRate = Math.max(1, Math.round((cfg.rate ?? sustained) / 2));
    const halfStart = Date.now();
    const halfEnd = halfStart + cfg.halfSec * 1000;
    log(`rep ${rep}: sustained ${sustained.toFixed(0)} events/s; latency phase at ${halfRate} events/s for ${cfg.halfSec}s`);
    // Small batches at low rates, so that events arrive spread over the window, not in one burst.
    const halfStats = await load(halfEnd, halfRate, Math.max(1, Math.min(cfg.batchSize, Math.round(halfRate / 10))));
    phases.half = { from: halfStart, to: halfEnd, rate: halfRate, ...sampler.window(halfStart, halfEnd), http: halfStats };
    phases.half.drained = await waitForDrain(sampler, cfg.drainSec * 1000);
    await sampler.stop();

    const changes = await readSegmentChanges({ kafka, admin, registryUrl, topic: scope.namespace + TOPICS.segmentChanges });
    const latencyOf = (p) =>
      percentiles(changes.filter((c) => c.receivedAt >= p.from && c.receivedAt < p.to).map((c) => c.producedAt - c.receivedAt));
    phases.max.latencyMs = latencyOf(phases.max);
    phases.half.latencyMs = latencyOf(phases.half);
    const latencyAllMs = percentiles(changes.map((c) => c.producedAt - c.receivedAt));
    const bySecond = new Map();
    for (const c of changes) {
      const sec = Math.floor(c.receivedAt / 1000) * 1000;
      bySecond.set(sec, [...(bySecond.get(sec) ?? []), c.producedAt - c.receivedAt]);
    }
    const latencySeries = [...bySecond].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, ...percentiles(v) }));

    log(`rep ${rep}: stopping services; record and document sizes; ceilings (${cfg.ceilingSec}s each)`);
    await Promise.all(Object.values(services).map((s) => s.stop()));
    for (const k of Object.keys(services)) delete services[k];
    const topicBytes = {};
    for (const [name, topic] of Object.entries(TOPICS)) {
      const sample = await sampleRecords({ kafka, admin, topic: scope.namespace + topic, n: 500 }).catch(() => []);
      if (sample.length)
        topicBytes[name] = {
          records: (await admin.fetchTopicOffsets(scope.namespace + topic)).reduce((s, p) => s + Number(p.high), 0),
          sampled: sample.length,
          avgValueBytes: Math.round(sample.reduce((s, r) => s + r.value.length, 0) / sample.length),
          avgKeyBytes: Math.round(sample.reduce((s, r) => s + (r.key?.length ?? 0), 0) / sample.length),
        };
    }
    const storage = await storageStats({
      mongoUrl: scope.mongoUrl,
      ids: workloadIds({ workspaceId: WORKSPACE, runId: scope.id, people: workload.people, segmentIds }),
    });

    const records = await sampleRecords({ kafka, admin, topic: scope.namespace + TOPICS.raw, n: 2000 });
    const scratchIn = `${scope.namespace}bench.ceiling.in`;
    const scratchOut = `${scope.namespace}bench.ceiling.out`;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [scratchIn, scratchOut].map((topic) => ({ topic, numPartitions: cfg.partitions, replicationFactor: 1 })),
    });
    const ceilings = {};
    ceilings.produce = await produceCeiling({ kafka, topic: scratchIn, records, seconds: cfg.ceilingSec });
    ceilings.passThrough = await passThroughCeiling({
      kafka,
      from: scratchIn,
      to: scratchOut,
      groupId: `${scope.namespace}bench.pass`,
      seconds: cfg.ceilingSec,
    });
    ceilings.bulkUpsert = await bulkUpsertCeiling({ mongoUrl: scope.mongoUrl, registryUrl, records, seconds: cfg.ceilingSec });
    const avgRecordBytes = records.reduce((s, r) => s + r.value.length + (r.key?.length ?? 0), 0) / Math.max(1, records.length);
    log(
      `rep ${rep}: ceilings produce ${ceilings.produce.eventsPerSec.toFixed(0)}/s, pass-through ${ceilings.passThrough.eventsPerSec.toFixed(0)}/s, bulk upsert ${ceilings.bulkUpsert.eventsPerSec.toFixed(0)}/s`,
    );
    return {
      rep,
      namespace: scope.namespace,
      people: workload.people,
      events: workload.events,
      mix: workload.mix,
      avgRecordBytes,
      topicBytes,
      storage,
      seeding,
      segmentChanges: changes.length,
      warmupMs: warmEnd - loadStart,
      phases,
      latencySeries,
      latencyAllMs,
      ceilings,
      samples: sampler.samples,
    };
  } finally {
    await Promise.all(Object.values(services).map((s) => s.stop().catch(() => undefined)));
    await cleanup(admin, scope).catch((e) => log(`cleanup: ${e.message}`));
    await admin.disconnect();
  }
}

/** Waits for the segments' backfills (over the still empty store) to finish. */
async function backfillsDone(services, segmentIds) {
  const auth = { authorization: `Bearer ${cfg.apiKey}` };
  const deadline = Date.now() + 60_000;
  for (const id of segmentIds) {
    for (;;) {
      const seg = await (await fetch(`${services.segmenter.url}/v1/segments/${id}`, { headers: auth })).json();
      if (seg.backfill?.status !== 'running') break;
      if (Date.now() > deadline) throw new Error(`backfill of segment ${id} still running after 60 s`);
      await sleep(250);
    }
  }
}

/**
 * Pre-seeds `--store` people once the services made their indexes and the segments' backfills
 * are done, then reads the last seeded person back through the profile-store and
 * identity-resolver APIs, so a seeding that does not match what the services store fails the run
 * instead of measuring an empty store.
 */
async function seed(scope, services) {
  const auth = { authorization: `Bearer ${cfg.apiKey}` };
  log(`seeding ${cfg.store.toLocaleString('en-US')} people${cfg.storeMemberships ? ' with their memberships' : ''}`);
  const seeded = await seedStore({
    mongoUrl: scope.mongoUrl,
    workspaceId: WORKSPACE,
    n: cfg.store,
    tag: scope.id,
    segments: cfg.storeMemberships ? SEGMENTS.map((s, i) => ({ segmentId: segmentIds[i], matches: s.matches })) : [],
    log,
  });
  const docs = Object.values(seeded.documents).reduce((a, b) => a + b, 0);
  log(
    `seeded ${cfg.store.toLocaleString('en-US')} people (${docs.toLocaleString('en-US')} documents) in ${seeded.seconds.toFixed(1)} s: ${seeded.peoplePerSec.toFixed(0)} people/s, ${seeded.documentsPerSec.toFixed(0)} documents/s`,
  );
  const { profileId, email } = seeded.sample;
  const get = async (url) => {
    const res = await fetch(url, { headers: auth });
    if (!res.ok) throw new Error(`seeding check: GET ${url} answered ${res.status} ${await res.text()}`);
    return res.json();
  };
  const byId = await get(`${services['profile-store'].url}/v1/profiles/${profileId}`);
  const byEmail = await get(`${services['profile-store'].url}/v1/profiles/${encodeURIComponent(`email:${email}`)}`);
  const identity = await get(`${services['identity-resolver'].url}/v1/identities/${encodeURIComponent(`email:${email}`)}`);
  const traitEmail = byId.traits?.email?.value ?? byId.traits?.email;
  if (byId.profileId !== profileId || traitEmail !== email || byEmail.profileId !== profileId || identity.profileId !== profileId)
    throw new Error(`seeding check: ${JSON.stringify({ profileId, email, byId, byEmail, identity })}`);
  log(`seeding check: profile ${profileId} read back by id and by email (profile-store) and by email (identity-resolver)`);
  return { ...seeded, checked: true };
}

/** Drops the repetition's topics and database: the shared stack keeps no bench data. */
async function cleanup(admin, scope) {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(scope.namespace));
  if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(scope.namespace));
  if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
  const client = await new MongoClient(scope.mongoUrl).connect();
  await client.db().dropDatabase();
  await client.close();
}

/** The pre-seeded store of the run (the first repetition's seeding; every repetition seeds the same size). */
function storeSummary(reps) {
  const s = reps[0].seeding;
  if (!s) return { profiles: 0 };
  return {
    profiles: s.people,
    memberships: cfg.storeMemberships,
    documents: s.documents,
    seedingSec: Math.round(s.seconds * 10) / 10,
    peoplePerSec: Math.round(s.peoplePerSec),
    documentsPerSec: Math.round(s.documentsPerSec),
    checked: s.checked,
  };
}

/**
 * When the previous latest run had another store size: end-to-end throughput of the larger store
 * over that of the smaller (issue 8's target: at least 0.8).
 */
function scaleComparison(result, previous) {
  const prevProfiles = previous?.store?.profiles ?? 0;
  const profiles = result.store.profiles;
  if (!previous || prevProfiles === profiles || !previous.endToEnd?.eventsPerSec) return undefined;
  const [small, large] = prevProfiles < profiles ? [previous, result] : [result, previous];
  const ratio = Math.round((large.endToEnd.eventsPerSec / small.endToEnd.eventsPerSec) * 1000) / 1000;
  return {
    previousStartedAt: previous.startedAt,
    smallStore: small.store?.profiles ?? 0,
    largeStore: large.store?.profiles ?? 0,
    smallEventsPerSec: small.endToEnd.eventsPerSec,
    largeEventsPerSec: large.endToEnd.eventsPerSec,
    ratio,
    stages: Object.fromEntries(
      Object.keys(result.stages).map((s) => [
        s,
        small.stages[s]?.eventsPerSec ? Math.round((large.stages[s].eventsPerSec / small.stages[s].eventsPerSec) * 1000) / 1000 : null,
      ]),
    ),
    target: { target: 0.8, measured: ratio, met: ratio >= 0.8 },
  };
}

async function main() {
  log(`mode ${cfg.mode}: ${cfg.reps} repetition(s)`);
  prepare(root, { build: args.build !== 'false' && args['no-build'] !== 'true', stack: true, log });
  const { kafkaBrokers } = endpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-bench', logLevel: logLevel.NOTHING });
  const reps = [];
  for (let r = 1; r <= cfg.reps; r++) reps.push(await repetition(r, kafka));
  const startedAt = new Date(t0).toISOString();
  const result = summarize({ cfg, reps, startedAt, durationSec: (Date.now() - t0) / 1000 });
  const resultsDir = join(root, 'bench', 'results');
  const runDir = join(resultsDir, 'runs', startedAt.replace(/[:.]/g, '-'));
  mkdirSync(runDir, { recursive: true });
  const previousPath = join(resultsDir, 'latest.json');
  const previous = existsSync(previousPath) ? JSON.parse(readFileSync(previousPath, 'utf8')) : undefined;
  result.store = storeSummary(reps);
  result.topicBytes = reps[0].topicBytes;
  result.storage = reps[0].storage;
  result.scale = scaleComparison(result, previous);
  if (result.scale) result.targets.largeStoreAtLeast80PercentOfSmall = result.scale.target;
  writeReport({ result, reps, previous, runDir, resultsDir });
  writeFileSync(join(runDir, 'samples.json'), JSON.stringify(reps.map((r) => ({ rep: r.rep, samples: r.samples }))));
  log(`report: bench/results/latest.md (run folder ${runDir})`);
  const e = result.endToEnd;
  log(
    `end to end ${e.eventsPerSec.toFixed(0)} events/s; latency at ${e.latencyRate} events/s p50 ${e.latencyMs.p50} ms, p95 ${e.latencyMs.p95} ms, p99 ${e.latencyMs.p99} ms`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
