#!/usr/bin/env node
// `npm run bench:collector [-- --quick] [--no-build] [--reps=N] [--seconds=N] [--concurrency=N] [--workers=N|auto] [--root=DIR]`:
// the collector alone (issue #3's target), batches of 100 events over HTTP at the maximum rate it
// answers, the bare kafkajs produce of the same encoded events as its ceiling in the same run,
// then half that rate for request latency. Writes bench/results/collector-latest.{json,md}.
// --root: run the collector built in another checkout (its dist/; nothing is built), e.g. a worktree of HEAD for a before figure.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseArgs } from './lib/args.mjs';
import { produceCeiling, sampleRecords } from './lib/ceilings.mjs';
import { percentiles } from './lib/latency.mjs';
import { drive } from './lib/load.mjs';
import { TOPICS } from './lib/sampler.mjs';
import { benchScope, endpoints, prepare, procSample, startService } from './lib/services.mjs';
import { dropScopeTopics } from './lib/stage.mjs';
import { Workload } from './lib/workload.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { args, num } = parseArgs(process.argv.slice(2));
const serviceRoot = args.root ?? root;
const cfg = {
  reps: num('reps', 3, 3),
  seconds: num('seconds', 20, 8),
  halfSeconds: num('half', 20, 8),
  concurrency: num('concurrency', 16, 16),
  batchSize: 100,
  partitions: num('partitions', 3, 3),
  port: num('port', 3811, 3811),
  writeKey: process.env.CDP_DEMO_WRITE_KEY || 'dev-write-key',
  // The collector's CDP_WORKERS (processes on its port); unset: the collector's default.
  workers: args.workers ?? process.env.CDP_WORKERS ?? 'default',
  serviceRoot,
};
const t0 = Date.now();
const log = (m) => console.log(`[bench:collector ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CPU and memory of the collector and its worker processes (CDP_WORKERS > 1), summed. */
function treeSample(pid) {
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children file: the process alone
  }
  const samples = [pid, ...children].map(procSample).filter(Boolean);
  return { cpuSec: samples.reduce((s, x) => s + x.cpuSec, 0), rssBytes: samples.reduce((s, x) => s + x.rssBytes, 0) };
}

/** A pool of request bodies built once, so the load generator spends its core on sending. */
function bodies(runId, n) {
  const workload = new Workload({ runId, seed: 7, active: 200 });
  return Array.from({ length: n }, () => workload.batch(cfg.batchSize));
}

async function main() {
  prepare(root, { build: args['no-build'] !== 'true', services: ['collector'], serviceRoot, log });
  const scope = benchScope(cfg.partitions);
  const { kafkaBrokers } = endpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-bench-collector', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const collector = await startService(serviceRoot, 'collector', cfg.port, {
    ...scope.env,
    ...(cfg.workers === 'default' ? {} : { CDP_WORKERS: String(cfg.workers) }),
  });
  const pool = bodies(scope.id, 200);
  let next = 0;
  const workload = { batch: () => pool[next++ % pool.length] };
  const run = (seconds, rate) =>
    drive({
      collectorUrl: collector.url,
      writeKey: cfg.writeKey,
      workload,
      batchSize: cfg.batchSize,
      concurrency: cfg.concurrency,
      until: Date.now() + seconds * 1000,
      rate,
    });
  try {
    log(`warm-up`);
    await run(3);
    const reps = [];
    for (let rep = 1; rep <= cfg.reps; rep++) {
      const cpu0 = treeSample(collector.pid);
      const started = Date.now();
      const stats = await run(cfg.seconds);
      const sec = (Date.now() - started) / 1000;
      const cpu1 = treeSample(collector.pid);
      const records = await sampleRecords({ kafka, admin, topic: scope.namespace + TOPICS.raw, n: 2000 });
      const scratch = `${scope.namespace}bench.ceiling.${rep}`;
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: scratch, numPartitions: cfg.partitions, replicationFactor: 1 }] });
      const ceiling = await produceCeiling({ kafka, topic: scratch, records, seconds: cfg.seconds });
      const r = {
        rep,
        eventsPerSec: stats.accepted / sec,
        statuses: stats.statuses,
        requestMs: percentiles(stats.requestMs),
        collectorCpuCores: (cpu1.cpuSec - cpu0.cpuSec) / sec,
        collectorCpuUsPerEvent: ((cpu1.cpuSec - cpu0.cpuSec) * 1e6) / stats.accepted,
        collectorRssMb: cpu1.rssBytes / 2 ** 20,
        ceilingEventsPerSec: ceiling.eventsPerSec,
      };
      r.ratio = r.eventsPerSec / r.ceilingEventsPerSec;
      log(
        `rep ${rep}: ${r.eventsPerSec.toFixed(0)} events/s accepted (${JSON.stringify(stats.statuses)}), bare produce ${ceiling.eventsPerSec.toFixed(0)}/s, ratio ${r.ratio.toFixed(2)}, collector ${r.collectorCpuCores.toFixed(2)} cores`,
      );
      reps.push(r);
    }
    const max = median(reps.map((r) => r.eventsPerSec));
    const halfRate = Math.round(max / 2);
    log(`latency at half the maximum: ${halfRate} events/s for ${cfg.halfSeconds} s`);
    const cpuHalf0 = treeSample(collector.pid);
    const halfStarted = Date.now();
    const half = await run(cfg.halfSeconds, halfRate);
    const halfSec = (Date.now() - halfStarted) / 1000;
    const halfCores = (treeSample(collector.pid).cpuSec - cpuHalf0.cpuSec) / halfSec;
    const result = {
      startedAt: new Date(t0).toISOString(),
      config: cfg,
      eventsPerSec: max,
      ceilingEventsPerSec: median(reps.map((r) => r.ceilingEventsPerSec)),
      ratio: median(reps.map((r) => r.ratio)),
      halfRate: {
        eventsPerSec: halfRate,
        statuses: half.statuses,
        requestMs: percentiles(half.requestMs),
        collectorCpuCores: halfCores,
        // CPU per event at a set rate: the collector's efficiency, less swayed by a busy machine than its maximum.
        collectorCpuUsPerEvent: (halfCores * 1e6) / (half.accepted / halfSec),
      },
      reps,
    };
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'collector-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, 'collector-latest.md'), markdown(result));
    log(
      `median ${max.toFixed(0)} events/s, ceiling ${result.ceilingEventsPerSec.toFixed(0)}/s, ratio ${result.ratio.toFixed(2)}; half rate p50 ${result.halfRate.requestMs.p50} ms, p99 ${result.halfRate.requestMs.p99} ms, collector ${result.halfRate.collectorCpuUsPerEvent.toFixed(0)} µs CPU per event`,
    );
  } finally {
    await collector.stop();
    await dropScopeTopics(admin, scope.namespace);
    await admin.disconnect();
    const client = await new MongoClient(scope.mongoUrl).connect();
    await client
      .db()
      .dropDatabase()
      .finally(() => client.close());
  }
}

function markdown(r) {
  const rows = r.reps.map(
    (x) =>
      `| ${x.rep} | ${x.eventsPerSec.toFixed(0)} | ${x.ceilingEventsPerSec.toFixed(0)} | ${x.ratio.toFixed(2)} | ${x.requestMs.p50} / ${x.requestMs.p99} | ${x.collectorCpuCores.toFixed(2)} | ${x.collectorCpuUsPerEvent.toFixed(0)} | ${x.collectorRssMb.toFixed(0)} |`,
  );
  return `# Collector alone (${r.startedAt})

Batches of ${r.config.batchSize} events to \`/v1/batch\`, ${r.config.concurrency} concurrent requests, ${r.config.partitions} partitions, acks=all, CDP_WORKERS ${r.config.workers};
the ceiling is a bare kafkajs produce of the same encoded events in the same run.

| rep | accepted events/s | bare produce events/s | ratio | request ms p50 / p99 | collector cores | µs CPU per event | RSS MB |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Median: **${r.eventsPerSec.toFixed(0)} events/s**, ratio to the ceiling **${r.ratio.toFixed(2)}**.
At half that rate (${r.halfRate.eventsPerSec} events/s): request p50 ${r.halfRate.requestMs.p50} ms, p99 **${r.halfRate.requestMs.p99} ms**; the collector
spent ${r.halfRate.collectorCpuUsPerEvent.toFixed(0)} µs of CPU per event (${r.halfRate.collectorCpuCores.toFixed(2)} cores).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
