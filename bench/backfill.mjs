#!/usr/bin/env node
// `npm run bench:backfill [-- --quick] [--store=N] [--no-build] [--root=DIR]`: a segment backfill alone (issue
// #7's target: 100,000 profiles in 30 s). Seeds N profile snapshots into the segmenter's
// `segment_profiles`, creates a segment over them through the API and waits for its backfill to
// finish; the ceiling is a bare driver scan of the same snapshots in the same batches, in the same
// run. Writes bench/results/backfill-latest.{json,md} (under --root: another checkout's build and results).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseArgs } from './lib/args.mjs';
import { seedStore } from './lib/seed.mjs';
import { benchScope, endpoints, prepare, procSample, startService } from './lib/services.mjs';

const { args, num } = parseArgs(process.argv.slice(2));
const root = args.root ? resolve(args.root) : join(dirname(fileURLToPath(import.meta.url)), '..');
const cfg = {
  store: num('store', 100_000, 10_000),
  batch: 500, // the segmenter's SEGMENT_BACKFILL_BATCH default
  partitions: 3,
  port: num('port', 3825, 3825),
  apiKey: process.env.CDP_DEMO_API_KEY || 'dev-api-key',
  // One person in five is in DE (bench/lib/seed.mjs): the backfill enters a fifth of the store.
  definition: "trait('country') = 'DE'",
};
const WORKSPACE = 'demo';
const t0 = Date.now();
const log = (m) => console.log(`[bench:backfill ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The reads the backfill starts from: every live snapshot, one unsorted cursor, `batch` at a time. */
async function bareScan(collection) {
  const started = Date.now();
  let n = 0;
  for await (const doc of collection.find({ workspaceId: WORKSPACE, deleted: false }, { batchSize: cfg.batch })) {
    if (doc) n++;
  }
  return { profiles: n, perSec: n / ((Date.now() - started) / 1000) };
}

async function main() {
  prepare(root, { build: args['no-build'] !== 'true', log });
  const scope = benchScope(cfg.partitions);
  const { kafkaBrokers } = endpoints();
  const admin = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-bench-backfill', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  // One instance: no other instance's catalog for the backfill to wait for (it waits SEGMENT_CACHE_TTL_MS).
  const segmenter = await startService(root, 'segmenter', cfg.port, {
    ...scope.env,
    CDP_DEMO_API_KEY: cfg.apiKey,
    SEGMENT_CACHE_TTL_MS: '0',
  });
  const client = await new MongoClient(scope.mongoUrl).connect();
  try {
    log(`seeding ${cfg.store} profile snapshots into segment_profiles`);
    const seeded = await seedStore({
      mongoUrl: scope.mongoUrl,
      workspaceId: WORKSPACE,
      n: cfg.store,
      tag: 'bf',
      only: ['segment_profiles'],
      log,
    });
    log(`seeded in ${seeded.seconds.toFixed(0)} s`);
    const headers = { authorization: `Bearer ${cfg.apiKey}`, 'content-type': 'application/json' };
    const cpu0 = procSample(segmenter.pid);
    const created = Date.now();
    const res = await fetch(`${segmenter.url}/v1/segments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `bench-backfill-${scope.id}`, definition: cfg.definition }),
    });
    if (res.status !== 201) throw new Error(`creating the segment: HTTP ${res.status} ${await res.text()}`);
    const { id } = await res.json();
    let backfill;
    for (let lastLog = Date.now(); ; await sleep(250)) {
      ({ backfill } = await (await fetch(`${segmenter.url}/v1/segments/${id}`, { headers })).json());
      if (backfill?.status === 'done' || backfill?.status === 'failed') break;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`backfill ${backfill?.percent ?? 0}%: ${backfill?.processed ?? 0} profiles, ${backfill?.profilesPerSecond ?? 0}/s`);
      }
      if (Date.now() - created > 30 * 60_000) throw new Error('the backfill did not finish within 30 minutes');
    }
    const seconds = (Date.now() - created) / 1000;
    const cpu1 = procSample(segmenter.pid);
    if (backfill.status !== 'done') throw new Error(`the backfill failed: ${JSON.stringify(backfill)}`);
    log(`backfill done in ${seconds.toFixed(1)} s: ${backfill.processed} profiles, ${backfill.entered} entered; bare scan next`);
    const ceiling = await bareScan(client.db().collection('segment_profiles'));
    const result = {
      startedAt: new Date(t0).toISOString(),
      config: cfg,
      seconds,
      processed: backfill.processed,
      entered: backfill.entered,
      profilesPerSec: backfill.processed / seconds,
      segmenterCpuCores: (cpu1.cpuSec - cpu0.cpuSec) / seconds,
      ceiling,
    };
    result.ratio = result.profilesPerSec / ceiling.perSec;
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'backfill-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, 'backfill-latest.md'), markdown(result));
    log(
      `${result.profilesPerSec.toFixed(0)} profiles/s (bare scan ${ceiling.perSec.toFixed(0)}/s, ratio ${result.ratio.toFixed(2)}), segmenter ${result.segmenterCpuCores.toFixed(2)} cores`,
    );
  } finally {
    await client.close();
    await segmenter.stop();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(scope.namespace));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect();
    const cleanup = await new MongoClient(scope.mongoUrl).connect();
    await cleanup.db().dropDatabase();
    await cleanup.close();
  }
}

function markdown(r) {
  return `# Segment backfill (${r.startedAt})

\`${r.config.definition}\` created over ${r.config.store.toLocaleString('en')} stored profile snapshots (batches of ${r.config.batch}).

- Backfill: **${r.seconds.toFixed(1)} s** for ${r.processed.toLocaleString('en')} profiles (${r.entered.toLocaleString('en')} entered), **${r.profilesPerSec.toFixed(0)} profiles/s**, segmenter ${r.segmenterCpuCores.toFixed(2)} cores (target: 100,000 in 30 s).
- Ceiling, a bare scan of the same snapshots in the same batches: ${r.ceiling.perSec.toFixed(0)} profiles/s; ratio **${r.ratio.toFixed(2)}**.
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
