#!/usr/bin/env node
// `npm run bench:profiles [-- --quick] [--store=N] [--no-build] [--reps=N] [--seconds=N] [--concurrency=N]`:
// the Profile API read path alone (issue #6's target: `GET /v1/profiles/{id}` p99 under 20 ms with
// 100,000 profiles stored). Seeds N people into the profile-store's collections, then reads random
// ones by id and by `email:<value>` at a fixed concurrency; the ceiling is a bare driver `findOne`
// by `_id` of the same documents at the same concurrency, in the same run.
// Writes bench/results/profiles-latest.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseArgs } from './lib/args.mjs';
import { percentiles } from './lib/latency.mjs';
import { keyId, profileIdFor, seededPerson, seedStore } from './lib/seed.mjs';
import { benchScope, endpoints, prepare, procSample, startService } from './lib/services.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { args, num } = parseArgs(process.argv.slice(2));
const cfg = {
  store: num('store', 100_000, 10_000),
  reps: num('reps', 3, 3),
  seconds: num('seconds', 15, 6),
  concurrency: num('concurrency', 8, 8),
  partitions: 3,
  port: num('port', 3821, 3821),
  apiKey: process.env.CDP_DEMO_API_KEY || 'dev-api-key',
};
const WORKSPACE = 'demo'; // the demo API key's workspace (libs/access DEMO_WORKSPACE)
const TAG = 'pr';
const t0 = Date.now();
const log = (m) => console.log(`[bench:profiles ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const randomPerson = () => seededPerson(TAG, Math.floor(Math.random() * cfg.store));

/** `concurrency` loops calling `once` until `seconds` pass: completed calls per second and latencies (ms). */
async function closedLoop(seconds, once) {
  const until = Date.now() + seconds * 1000;
  const ms = [];
  const failures = {};
  const started = Date.now();
  await Promise.all(
    Array.from({ length: cfg.concurrency }, async () => {
      while (Date.now() < until) {
        const t = performance.now();
        const outcome = await once().catch((e) => String(e?.code ?? e?.message ?? e));
        if (outcome === true) ms.push(performance.now() - t);
        else failures[outcome] = (failures[outcome] ?? 0) + 1;
      }
    }),
  );
  return { perSec: ms.length / ((Date.now() - started) / 1000), ms: percentiles(ms.map((x) => Math.round(x * 10) / 10)), failures };
}

async function main() {
  prepare(root, { build: args['no-build'] !== 'true', log });
  const scope = benchScope(cfg.partitions);
  const { kafkaBrokers } = endpoints();
  const admin = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-bench-profiles', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const store = await startService(root, 'profile-store', cfg.port, { ...scope.env, CDP_DEMO_API_KEY: cfg.apiKey });
  const client = await new MongoClient(scope.mongoUrl).connect();
  try {
    log(`seeding ${cfg.store} people into profiles and profile_identifiers`);
    const seeded = await seedStore({
      mongoUrl: scope.mongoUrl,
      workspaceId: WORKSPACE,
      n: cfg.store,
      tag: TAG,
      only: ['profiles', 'profile_identifiers'],
      log,
    });
    log(`seeded in ${seeded.seconds.toFixed(0)} s (${seeded.peoplePerSec.toFixed(0)} people/s)`);
    const auth = { authorization: `Bearer ${cfg.apiKey}` };
    const get = async (path) => {
      const res = await fetch(`${store.url}${path}`, { headers: auth });
      await res.arrayBuffer();
      return res.status === 200 ? true : `HTTP ${res.status}`;
    };
    const byId = () => get(`/v1/profiles/${profileIdFor(WORKSPACE, randomPerson().identifiers[0])}`);
    const byEmail = () => get(`/v1/profiles/email:${encodeURIComponent(randomPerson().identifiers[1].value)}`);
    const profiles = client.db().collection('profiles');
    const bare = async () => {
      const doc = await profiles.findOne({ _id: keyId(WORKSPACE, profileIdFor(WORKSPACE, randomPerson().identifiers[0])) });
      return doc ? true : 'missing';
    };
    log('warm-up');
    await closedLoop(3, byId);
    const reps = [];
    for (let rep = 1; rep <= cfg.reps; rep++) {
      const cpu0 = procSample(store.pid);
      const id = await closedLoop(cfg.seconds, byId);
      const cpu1 = procSample(store.pid);
      const email = await closedLoop(cfg.seconds, byEmail);
      const ceiling = await closedLoop(cfg.seconds, bare);
      const r = {
        rep,
        byId: id,
        byEmail: email,
        ceiling,
        ratio: id.perSec / ceiling.perSec,
        storeCpuCores: (cpu1.cpuSec - cpu0.cpuSec) / cfg.seconds,
        storeRssMb: cpu1.rssBytes / 2 ** 20,
      };
      log(
        `rep ${rep}: by id ${id.perSec.toFixed(0)}/s p50 ${id.ms.p50} p99 ${id.ms.p99} ms; by email ${email.perSec.toFixed(0)}/s p99 ${email.ms.p99} ms; bare findOne ${ceiling.perSec.toFixed(0)}/s p99 ${ceiling.ms.p99} ms; ratio ${r.ratio.toFixed(2)}`,
      );
      reps.push(r);
    }
    const result = {
      startedAt: new Date(t0).toISOString(),
      config: cfg,
      seeding: { seconds: seeded.seconds, peoplePerSec: seeded.peoplePerSec, documents: seeded.documents },
      byIdP99Ms: median(reps.map((r) => r.byId.ms.p99)),
      byEmailP99Ms: median(reps.map((r) => r.byEmail.ms.p99)),
      ceilingP99Ms: median(reps.map((r) => r.ceiling.ms.p99)),
      byIdPerSec: median(reps.map((r) => r.byId.perSec)),
      ceilingPerSec: median(reps.map((r) => r.ceiling.perSec)),
      ratio: median(reps.map((r) => r.ratio)),
      targetP99Ms: 20,
      reps,
    };
    result.met = result.byIdP99Ms < result.targetP99Ms;
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'profiles-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, 'profiles-latest.md'), markdown(result));
    log(
      `median p99 by id ${result.byIdP99Ms} ms (target < 20 ms: ${result.met ? 'met' : 'missed'}), ratio to bare findOne ${result.ratio.toFixed(2)}`,
    );
  } finally {
    await store.stop();
    await client
      .db()
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(scope.namespace));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect();
  }
}

function markdown(r) {
  const row = (x) =>
    `| ${x.rep} | ${x.byId.perSec.toFixed(0)} | ${x.byId.ms.p50} / ${x.byId.ms.p99} | ${x.byEmail.perSec.toFixed(0)} | ${x.byEmail.ms.p50} / ${x.byEmail.ms.p99} | ${x.ceiling.perSec.toFixed(0)} | ${x.ceiling.ms.p50} / ${x.ceiling.ms.p99} | ${x.ratio.toFixed(2)} | ${x.storeCpuCores.toFixed(2)} | ${x.storeRssMb.toFixed(0)} |`;
  return `# Profile API reads (${r.startedAt})

${r.config.store.toLocaleString('en')} people seeded into the profile-store's collections (${r.seeding.seconds.toFixed(0)} s);
random reads at ${r.config.concurrency} concurrent requests for ${r.config.seconds} s per measurement. The ceiling is a bare
driver \`findOne\` by \`_id\` of the same documents at the same concurrency, in the same run. Every API read also writes an audit record.

| rep | by id /s | by id ms p50 / p99 | by email /s | by email ms p50 / p99 | bare findOne /s | bare ms p50 / p99 | ratio (by id / bare) | profile-store cores | RSS MB |
|---|---|---|---|---|---|---|---|---|---|
${r.reps.map(row).join('\n')}

Median p99 of \`GET /v1/profiles/{id}\`: **${r.byIdP99Ms} ms** (target under ${r.targetP99Ms} ms: ${r.met ? 'met' : 'missed'}); by email ${r.byEmailP99Ms} ms; bare findOne ${r.ceilingP99Ms} ms.
Throughput ratio to the ceiling: **${r.ratio.toFixed(2)}**.
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
