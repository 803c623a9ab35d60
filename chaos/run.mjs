#!/usr/bin/env node
// The fault-injection suite (issue #9, items 1-2): `node chaos/run.mjs [--quick] [--infra] [--no-build] ...`.
// Drives the real pipeline with generated events while killing, stopping and scaling its services,
// then checks from the outside that every accepted event was applied exactly once. See chaos/README.md.
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sampler, TOPICS } from '../bench/lib/sampler.mjs';
import { benchScope, endpoints, prepare, SERVICES } from '../bench/lib/services.mjs';
import { parseArgs } from '../bench/lib/args.mjs';
import { Workload } from '../bench/lib/workload.mjs';
import { Fleet, infraFaults, serviceFaults } from './lib/fleet.mjs';
import { renderMarkdown, verdict } from './lib/report.mjs';
import { Sender } from './lib/sender.mjs';
import { checkApi, checkProfiles, checkSegmentChanges, GROUP_INPUTS, readStore, readTopic, registry, waitForDrain } from './lib/verify.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { args, quick, num } = parseArgs(process.argv.slice(2));
// --own-stack[=offset]: run on a second local stack whose ports are moved by the offset [10000]
// (deploy/local/stack.sh, CDP_STACK_PORT_OFFSET), so --infra restarts only that one.
if (args['own-stack']) {
  const offset = args['own-stack'] === 'true' ? 10_000 : Number(args['own-stack']);
  if (!Number.isInteger(offset) || offset <= 0) throw new Error(`--own-stack takes a positive port offset, not ${args['own-stack']}`);
  Object.assign(process.env, {
    CDP_STACK_PORT_OFFSET: String(offset),
    KAFKA_BROKERS: `localhost:${9092 + offset}`,
    SCHEMA_REGISTRY_URL: `http://localhost:${8081 + offset}/apis/ccompat/v7`,
    MONGO_URL: `mongodb://localhost:${27017 + offset}/cdp`,
  });
}
const cfg = {
  mode: quick ? 'quick' : 'full',
  events: num('events', 50_000, 2_000),
  batchSize: num('batch', 50, 50),
  concurrency: num('concurrency', 4, 4),
  // Sending pace (events/s) and back-pressure (total consumer lag) keep queues short on a 2-core machine.
  rate: num('rate', 200, 150),
  lagCap: num('lag-cap', 3000, 1500),
  downSec: num('down', 5, 2),
  scaleSec: num('scale', 20, 10),
  infraDownSec: num('infra-down', 15, 10),
  // Longer than a consumer's session timeout (10 s) plus a rebalance.
  settleSec: num('settle', 45, 45),
  drainSec: num('drain', 1200, 300),
  partitions: num('partitions', 3, 3),
  sessions: num('sessions', 100, 50),
  seed: num('seed', 7, 7),
  portBase: num('port-base', 3400, 3400),
  infra: args.infra === 'true',
  keep: args.keep ?? 'fail',
  writeKey: process.env.CDP_DEMO_WRITE_KEY || 'dev-write-key',
  apiKey: process.env.CDP_DEMO_API_KEY || 'dev-api-key',
};
// Quick (CI): a kill -9 of every service, and a graceful stop and a scale-out of the most stateful one.
const defaultFaults = quick
  ? [...serviceFaults(SERVICES, ['kill9']), ...serviceFaults(['profile-store'], ['sigterm', 'scale'])]
  : serviceFaults(SERVICES, ['kill9', 'sigterm', 'scale']);
let faults = [...defaultFaults, ...(cfg.infra ? infraFaults(root) : [])];
if (args.faults) {
  // --faults=kill9-collector,scale (ids or kinds; infra ones need --infra as well)
  const want = args.faults.split(',');
  const all = [...serviceFaults(SERVICES, ['kill9', 'sigterm', 'scale']), ...(cfg.infra ? infraFaults(root) : [])];
  faults = all.filter((f) => want.includes(f.id) || want.includes(f.kind));
}
const SEGMENTS = [
  { name: 'Germany', definition: "trait('country') = 'DE'" },
  { name: 'Known email', definition: "trait('email') exists" },
  { name: 'Not sanctioned', definition: "not trait('country') in ['KP', 'IR', 'SY']" },
  { name: 'Pro plan', definition: "trait('plan') = 'pro'" },
  // Entered on a device's first page view, exited at login (email): every journey produces exits.
  { name: 'Anonymous', definition: "not trait('email') exists" },
];

const t0 = Date.now();
const log = (m) => console.log(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);

async function createSegments(url) {
  for (const seg of SEGMENTS) {
    const res = await fetch(`${url}/v1/segments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cfg.apiKey}` },
      body: JSON.stringify(seg),
    });
    if (res.status !== 201) throw new Error(`creating segment ${seg.name}: ${res.status} ${await res.text()}`);
  }
}

/** bench's private namespace and database, named chaos.<id>. / cdp_chaos_<id> so a leftover is recognisable. */
function chaosScope() {
  const scope = benchScope(cfg.partitions);
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const url = new URL(scope.mongoUrl);
  url.pathname = `/cdp_chaos_${id}`;
  const namespace = `chaos.${id}.`;
  return {
    id,
    namespace,
    database: `cdp_chaos_${id}`,
    mongoUrl: url.toString(),
    env: {
      ...scope.env,
      MONGO_URL: url.toString(),
      CDP_TOPIC_NAMESPACE: namespace,
      CDP_DEMO_WRITE_KEY: cfg.writeKey,
      CDP_DEMO_API_KEY: cfg.apiKey,
    },
  };
}

/** Drops the run's topics, consumer groups and database (the shared stack keeps no chaos data). */
async function cleanup(admin, scope) {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(scope.namespace));
  if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(scope.namespace));
  if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
  const client = await new MongoClient(scope.mongoUrl).connect();
  await client.db().dropDatabase();
  await client.close();
}

async function main() {
  const phases = [{ id: 'baseline', kind: 'none', target: '-', describe: 'no fault (reference)' }, ...faults];
  const perPhase = Math.ceil(cfg.events / phases.length);
  log(`mode ${cfg.mode}: ${phases.length} phases of ${perPhase} events: ${phases.map((p) => p.id).join(', ')}`);
  prepare(root, { build: args.build !== 'false' && args['no-build'] !== 'true', stack: true, log });
  const { kafkaBrokers, registryUrl } = endpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-chaos', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const scope = chaosScope();
  const fleet = new Fleet({ root, env: scope.env, portBase: cfg.portBase, log });
  let passed = false;
  // Interrupted (Ctrl-C, CI timeout): keep what the services said and leave no process behind.
  const onSignal = async (sig) => {
    log(
      `${sig}: stopping services; logs in chaos/results/interrupted-logs.txt; topics ${scope.namespace}* and database ${scope.database} kept`,
    );
    mkdirSync(join(root, 'chaos', 'results'), { recursive: true });
    writeFileSync(join(root, 'chaos', 'results', 'interrupted-logs.txt'), fleet.logs());
    await fleet.stopAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`starting services (namespace ${scope.namespace}, database ${scope.database})`);
    await fleet.startAll();
    await createSegments(fleet.url('segmenter'));
    const sampler = new Sampler({ admin, namespace: scope.namespace, pids: {} });
    await sampler.start();
    const sender = new Sender({
      urls: () => fleet.collectorUrls(),
      writeKey: cfg.writeKey,
      workload: new Workload({ runId: scope.id, seed: cfg.seed, active: cfg.sessions }),
      batchSize: cfg.batchSize,
      concurrency: cfg.concurrency,
      rate: cfg.rate,
      lagCap: cfg.lagCap,
      lag: () => sampler.lastLag,
      log,
    });

    // Watchdog: a consumer group without members for long, while its service runs, is a consumer that died inside it.
    const groupIds = Object.keys(GROUP_INPUTS).map((g) => `${scope.namespace}cdp.${g}`);
    const episodes = [];
    const emptySince = {};
    let currentPhase = 'start';
    const watchdog = setInterval(() => {
      admin
        .describeGroups(groupIds)
        .then(({ groups }) => {
          for (const g of groups) {
            const name = g.groupId.slice(scope.namespace.length + 'cdp.'.length);
            if (g.members.length === 0) emptySince[name] ??= { t: Date.now(), phase: currentPhase };
            else if (emptySince[name]) {
              const e = emptySince[name];
              if (Date.now() - e.t > 30_000)
                episodes.push({
                  group: name,
                  fromSec: Math.round((e.t - t0) / 1000),
                  forSec: Math.round((Date.now() - e.t) / 1000),
                  phase: e.phase,
                });
              delete emptySince[name];
            }
          }
        })
        .catch(() => undefined);
    }, 2000);

    /**
     * After a fault: every group must have a member again within settleSec. A group that stays
     * empty while its service runs is a consumer dead inside a live process: recorded against this
     * fault, then repaired (kill -9 and start) so the remaining faults are still tested.
     */
    const stuckBy = {};
    const settleAfter = async (phaseId) => {
      const deadline = Date.now() + cfg.settleSec * 1000;
      let stableSince;
      for (;;) {
        const { groups } = await admin.describeGroups(groupIds).catch(() => ({ groups: [] }));
        const empty = groups.filter((g) => g.members.length === 0).map((g) => g.groupId.slice(scope.namespace.length + 'cdp.'.length));
        // Members for 10 s in a row: a restarted consumer that dies on its first (long) chunk shows up here.
        stableSince = groups.length && empty.length === 0 ? (stableSince ?? Date.now()) : undefined;
        if (stableSince && Date.now() - stableSince >= 10_000) return;
        if (Date.now() > deadline) {
          log(
            `${phaseId}: consumer group(s) ${empty.join(', ')} without members ${cfg.settleSec} s after the fault: stuck; restarting them`,
          );
          for (const name of empty) {
            // Charged to the phase in which the group lost its last member.
            const since = emptySince[name]?.phase ?? phaseId;
            (stuckBy[since] ??= []).push(name);
            if (fleet.extra[name]) await fleet.kill9(name, true);
            await fleet.kill9(name);
            await fleet.launch(name);
          }
          return;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };

    const rows = [];
    for (const phase of phases) {
      const started = Date.now();
      currentPhase = phase.id;
      let injected;
      const inject = () => {
        if (phase.kind === 'none') return Promise.resolve({});
        log(`${phase.id}: ${phase.describe}`);
        const at = Date.now() - started;
        return phase
          .inject({
            fleet,
            downMs: cfg.downSec * 1000,
            scaleMs: cfg.scaleSec * 1000,
            infraDownMs: cfg.infraDownSec * 1000,
            writeKey: cfg.writeKey,
          })
          .then((r) => ({ injectedAtMs: at, ...r }))
          .catch((e) => ({ injectedAtMs: at, failed: `fault could not be injected: ${e.message}` }));
      };
      // The fault hits after a third of the phase's events, while the pipeline is busy with them.
      const threshold = Math.floor(perPhase / 3);
      const stats = await sender.run(phase.id, perPhase, (done) => {
        if (!injected && done >= threshold) injected = inject();
      });
      const fault = await (injected ?? inject());
      await settleAfter(phase.id);
      const lagMax = Math.max(0, ...sampler.samples.filter((s) => s.t >= started).map((s) => sumLag(s)));
      rows.push({
        id: phase.id,
        kind: phase.kind,
        target: phase.target,
        describe: phase.describe,
        ms: Date.now() - started,
        lagMax,
        http: stats,
        fault,
      });
      log(
        `${phase.id}: sent ${stats.sent}, accepted ${stats.accepted}, non-200 answers ${stats.failedAttempts} (${JSON.stringify(stats.statuses)}), ${((Date.now() - started) / 1000).toFixed(0)} s${fault.failed ? `; FAILED: ${fault.failed}` : ''}`,
      );
    }
    for (const row of rows) row.stuck = stuckBy[row.id] ?? [];
    const loadEnd = Date.now();
    await sampler.stop();
    clearInterval(watchdog);
    for (const [group, e] of Object.entries(emptySince))
      if (Date.now() - e.t > 30_000) episodes.push({ group, fromSec: Math.round((e.t - t0) / 1000), forSec: null, phase: e.phase });
    if (episodes.length) log(`consumer groups without members for over 30 s: ${JSON.stringify(episodes)}`);

    log(`load done: ${sender.accepted.size} events accepted; waiting for the pipeline to drain (up to ${cfg.drainSec} s)`);
    const drain = await waitForDrain({ admin, ns: scope.namespace, timeoutMs: cfg.drainSec * 1000, log });
    log(drain.drained ? `drained in ${(drain.drainMs / 1000).toFixed(0)} s` : `NOT drained: lag ${JSON.stringify(drain.lags)}`);
    if (!drain.drained) {
      // Who is (not) consuming: an Empty group beside a live, "ready" process is a consumer that died inside it.
      const groups = await admin.describeGroups(drain.stuck.map((g) => `${scope.namespace}cdp.${g}`));
      drain.groups = groups.groups.map((g) => ({ groupId: g.groupId, state: g.state, members: g.members.map((m) => m.clientId) }));
      drain.readiness = {};
      for (const g of drain.stuck)
        drain.readiness[g] = await fetch(`${fleet.url(g)}/health/ready`)
          .then((r) => r.text())
          .catch((e) => e.message);
      log(`stuck groups: ${JSON.stringify(drain.groups)}; readiness ${JSON.stringify(drain.readiness)}`);
    }

    const reg = registry(registryUrl);
    const store = await readStore(scope.mongoUrl);
    const profilesCheck = checkProfiles({ accepted: sender.accepted, timeline: store.timeline, profiles: store.profiles });
    const api = await checkApi({
      url: fleet.url('profile-store'),
      apiKey: cfg.apiKey,
      userIds: sender.userIds,
      byId: profilesCheck.byId,
      canonical: profilesCheck.canonical,
    });
    const segChanges = await readTopic({ kafka, admin, registry: reg, topic: scope.namespace + TOPICS.segmentChanges });
    const segments = checkSegmentChanges(segChanges, store.memberships, store.profileSegments);
    // At-least-once at the edge: a batch whose 200 was lost (collector killed) is sent again with the same messageIds.
    const raw = await readTopic({ kafka, admin, registry: reg, topic: scope.namespace + TOPICS.raw });
    const rawCount = new Map();
    for (const r of raw) if (r.value) rawCount.set(r.value.messageId, (rawCount.get(r.value.messageId) ?? 0) + 1);
    const dlq = (await admin.fetchTopicOffsets(scope.namespace + TOPICS.dlq)).reduce((s, p) => s + Number(p.high), 0);

    for (const row of rows) {
      const p = profilesCheck.phases[row.id] ?? { accepted: 0, applied: 0, lost: 0, duplicated: 0, lostIds: [], duplicatedIds: [] };
      let resent = 0;
      for (const [id, ph] of sender.accepted) if (ph === row.id && (rawCount.get(id) ?? 0) > 1) resent++;
      Object.assign(row, {
        sent: row.http.sent,
        accepted: p.accepted,
        applied: p.applied,
        lost: p.lost + row.http.gaveUp,
        duplicated: p.duplicated,
        resentAtEdge: resent,
        lostIds: p.lostIds,
        duplicatedIds: p.duplicatedIds,
      });
    }
    const result = {
      startedAt: new Date(t0).toISOString(),
      durationSec: Math.round((Date.now() - t0) / 1000),
      loadSec: Math.round((loadEnd - t0) / 1000),
      cfg: { ...cfg, apiKey: undefined, writeKey: undefined },
      namespace: scope.namespace,
      database: scope.database,
      segments: SEGMENTS.map((s) => s.name),
      phases: rows,
      drain,
      groupsWithoutMembers: episodes,
      profiles: {
        timelineDocs: profilesCheck.timelineDocs,
        extraApplied: profilesCheck.extraApplied,
        extraIds: profilesCheck.extraIds,
        profiles: profilesCheck.profiles,
        canonicalProfiles: profilesCheck.canonicalProfiles,
        eventCountTotal: profilesCheck.eventCountTotal,
        countMismatches: profilesCheck.countMismatches,
        countExcess: profilesCheck.countExcess,
        countMissing: profilesCheck.countMissing,
        mismatchSample: profilesCheck.mismatchSample,
      },
      api,
      segmentChanges: { ...segments, problems: segments.problems.slice(0, 30), problemCount: segments.problems.length },
      rawRecords: raw.length,
      dlqRecords: dlq,
    };
    result.verdict = verdict(result);
    passed = result.verdict.passed;

    const dir = join(root, 'chaos', 'results');
    mkdirSync(dir, { recursive: true });
    const stamp = `${result.startedAt.replace(/[:.]/g, '-')}-${cfg.mode}`;
    const md = renderMarkdown(result);
    for (const name of [stamp, `latest-${cfg.mode}`]) {
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 1));
      writeFileSync(join(dir, `${name}.md`), md);
    }
    if (!passed) {
      writeFileSync(join(dir, `${stamp}-logs.txt`), fleet.logs());
      log(`service logs (tails): chaos/results/${stamp}-logs.txt`);
    }
    console.log('\n' + md);
    log(`results: chaos/results/${stamp}.{json,md}`);
    log(passed ? 'PASSED' : `FAILED: ${result.verdict.failures.join('; ')}`);
  } finally {
    await fleet.stopAll();
    const keep = cfg.keep === 'always' || (cfg.keep === 'fail' && !passed);
    if (keep) log(`kept topics ${scope.namespace}* and database ${scope.database} for inspection (--keep=never drops them)`);
    else await cleanup(admin, scope).catch((e) => log(`cleanup: ${e.message}`));
    await admin.disconnect();
  }
  return passed;
}

function sumLag(s) {
  return Object.values(s.lag ?? {}).reduce((a, b) => a + b, 0);
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
