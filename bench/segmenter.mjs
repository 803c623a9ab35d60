#!/usr/bin/env node
// `node bench/segmenter.mjs [--quick] [--reps=N] [--people=N] [--seconds=N] [--half=N] [--no-build] [--root=DIR]`:
// the segmenter alone (issue #7's target: p99 from profile change to segment change under 100 ms
// at half the maximum rate). Per repetition, in a fresh scope: three segments over the API, then
// cdp.profiles.changes.v1 records (Avro, Confluent wire format, as the profile-store writes them)
// that move N people in and out of them, first as fast as the segmenter keeps up (lag held under
// --lag-cap), then at half that rate for latency. Writes bench/results/segmenter-latest.{json,md}
// (under --root: another checkout's build and results directory, e.g. a worktree of an earlier commit).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseArgs } from './lib/args.mjs';
import { percentiles, readTopic } from './lib/latency.mjs';
import { pollEvery, TOPICS } from './lib/sampler.mjs';
import { benchScope, endpoints, prepare, procSample, startService } from './lib/services.mjs';
import { dropScopeTopics, platformProducer, registerSchema } from './lib/stage.mjs';

const { args, quick, num } = parseArgs(process.argv.slice(2));
const root = args.root ? resolve(args.root) : join(dirname(fileURLToPath(import.meta.url)), '..');
const cfg = {
  mode: quick ? 'quick' : 'full',
  reps: num('reps', 3, 1),
  people: num('people', 2000, 1000),
  maxSec: num('seconds', 30, 12),
  halfSec: num('half', 30, 12),
  lagCap: num('lag-cap', 300, 300),
  batch: num('batch', 100, 100),
  partitions: num('partitions', 3, 3),
  port: num('port', 3835, 3835),
  apiKey: process.env.CDP_DEMO_API_KEY || 'dev-api-key',
};
// Each one is moved by a different kind of change: a trait's value, a trait's presence, a counted event.
const SEGMENTS = [
  { name: 'Pro plan', definition: "trait('plan') = 'pro'" },
  { name: 'Has phone', definition: "trait('phone') exists" },
  { name: 'Repeat buyers', definition: "event('Order Completed').within(30 days).count() >= 2" },
];
cfg.segments = SEGMENTS;
const WORKSPACE = 'demo';
const ORDER = 'Order Completed';
const t0 = Date.now();
const log = (m) => console.log(`[bench:segmenter ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const v = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : null;
};

/**
 * N people, each cycling through changes that move them: plan 'pro' (enters Pro plan), a phone
 * (enters Has phone), an order, plan 'free' (exits), phone removed (exits), an order (the second
 * enters Repeat buyers). Changes are taken person after person, so a batch holds many profiles
 * and one person's changes stay in order on its partition, as the profile-store's do.
 */
class People {
  constructor(runId, n) {
    this.runId = runId;
    // Each person starts at another point of the cycle, its created traits as that point has them,
    // so every stretch of changes holds each kind of step (not a phase of orders that move nothing).
    this.people = Array.from({ length: n }, (_, i) => {
      const step = i % 6;
      const traits = { first_name: `Person${i}`, email: `person${i}@bench-${runId}.example`, country: ['DE', 'FR', 'US'][i % 3] };
      traits.plan = step >= 1 && step <= 3 ? 'pro' : 'free';
      if (step >= 2 && step <= 4) traits.phone = `+49 151 ${String(1e7 + i).slice(-8)}`;
      return { profileId: `p_${runId}_${i}`, version: 0, step, traits, orders: 0, revenue: 0, firstSeen: null };
    });
    this.next = 0;
  }

  /** The next change (ProfileChange) of the next person, stamped `at` (its produce time). */
  change(at) {
    const p = this.people[this.next];
    this.next = (this.next + 1) % this.people.length;
    p.version++;
    p.firstSeen ??= at;
    let changedTraits = [];
    let event = null;
    if (p.version === 1) changedTraits = Object.keys(p.traits);
    else {
      const step = p.step++ % 6;
      if (step === 0 || step === 3) {
        p.traits.plan = step === 0 ? 'pro' : 'free';
        changedTraits = ['plan'];
      } else if (step === 1) {
        p.traits.phone = `+49 151 ${String(1e7 + p.version).slice(-8)}`;
        changedTraits = ['phone'];
      } else if (step === 4) {
        delete p.traits.phone;
        changedTraits = ['phone'];
      } else {
        p.orders++;
        const total = 20 + ((p.version * 37) % 180);
        p.revenue += total;
        event = { order_id: `o-${p.profileId}-${p.version}`, total, currency: 'EUR', products: [{ product_id: 'sku-1001', quantity: 1 }] };
      }
    }
    const eventCount = p.version;
    return {
      workspaceId: WORKSPACE,
      profileId: p.profileId,
      version: p.version,
      change: p.version === 1 ? 'created' : 'updated',
      changedAt: at,
      changedTraits,
      traits: JSON.stringify(p.traits),
      computedTraits: JSON.stringify({
        first_seen: new Date(p.firstSeen).toISOString(),
        last_seen: new Date(at).toISOString(),
        event_count: eventCount,
        revenue: p.revenue,
      }),
      identifiers: [
        { type: 'user_id', value: `u-${p.profileId}` },
        { type: 'email', value: p.traits.email },
      ],
      absorbedProfileIds: [],
      messageId: `m-${p.profileId}-${p.version}`,
      eventName: event ? ORDER : null,
      eventTimestamp: event ? at : null,
      eventProperties: event ? JSON.stringify(event) : null,
      // The edge receipt time the segment change copies: here the change's produce time (a cross-check of the match).
      receivedAt: at,
    };
  }
}

/** Produces profile changes and remembers each one's produce time by (profileId, version). */
class ChangeProducer {
  constructor({ kafka, registry, schemaId, topic, people }) {
    this.producer = platformProducer(kafka);
    this.registry = registry;
    this.schemaId = schemaId;
    this.topic = topic;
    this.people = people;
    this.sentAt = new Map();
    this.acked = 0;
  }

  async send(n) {
    const at = Date.now();
    const changes = Array.from({ length: n }, () => this.people.change(at));
    const messages = await Promise.all(
      changes.map(async (c) => ({
        key: `${c.workspaceId}:${c.profileId}`,
        value: await this.registry.encode(this.schemaId, c),
        timestamp: String(at),
      })),
    );
    for (const c of changes) this.sentAt.set(`${c.profileId}#${c.version}`, at);
    await this.producer.send({ topic: this.topic, acks: -1, messages });
    this.acked += n;
  }
}

/** The segmenter group's committed offsets and the input's end, with the process's RSS, every `intervalMs`. */
class Watch {
  constructor({ admin, namespace, pid, intervalMs = 250 }) {
    Object.assign(this, { admin, pid, intervalMs });
    this.group = `${namespace}cdp.segmenter`;
    this.input = namespace + TOPICS.profileChanges;
    this.output = namespace + TOPICS.segmentChanges;
    this.samples = [];
  }

  async sample() {
    const sum = (ps, f) => ps.reduce((s, p) => s + Math.max(0, Number(p[f])), 0);
    const [ends, outs, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(this.input),
      this.admin.fetchTopicOffsets(this.output),
      this.admin.fetchOffsets({ groupId: this.group, topics: [this.input] }),
    ]);
    const s = {
      t: Date.now(),
      end: sum(ends, 'high'),
      out: sum(outs, 'high'),
      committed: committed.reduce((n, tp) => n + sum(tp.partitions, 'offset'), 0),
      proc: procSample(this.pid),
    };
    s.lag = s.end - s.committed;
    this.samples.push(s);
    this.last = s;
    return s;
  }

  start() {
    this.timer = pollEvery(this.intervalMs, () => this.sample());
    return this.sample();
  }

  stop() {
    clearInterval(this.timer);
  }

  /**
   * Committed records/s, produced segment changes/s, CPU cores and peak RSS over [a, b] (two
   * samples). The segmenter commits once per handled chunk (up to 500 records), so its rate is
   * taken between the first and the last sample in the window where its committed offset moved.
   */
  window(a, b) {
    const sec = (b.t - a.t) / 1000;
    const inside = this.samples.filter((s) => s.t >= a.t && s.t <= b.t);
    const moved = inside.filter((s, i) => i > 0 && s.committed > inside[i - 1].committed);
    const [first, last] = moved.length >= 2 ? [moved[0], moved[moved.length - 1]] : [a, b];
    return {
      seconds: sec,
      changesPerSec: (last.committed - first.committed) / ((last.t - first.t) / 1000),
      segmentChangesPerSec: (b.out - a.out) / sec,
      cpuCores: a.proc && b.proc ? (b.proc.cpuSec - a.proc.cpuSec) / sec : null,
      rssMbMax: Math.max(...inside.map((s) => s.proc?.rssBytes ?? 0)) / 2 ** 20,
      lagMax: Math.max(...inside.map((s) => s.lag)),
    };
  }

  async drained(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.sample();
      if (s.lag <= 0) return s;
      if (Date.now() > deadline) throw new Error(`the segmenter did not catch up within ${timeoutMs / 1000} s (lag ${s.lag})`);
      await sleep(100);
    }
  }
}

/**
 * Latency per segment change caused by a profile change produced in [from, to): the record's
 * Kafka timestamp (stamped by the segmenter's producer) minus the causing change's produce time,
 * found by (profileId, profileVersion). Timer and backfill records carry no receivedAt and are left out.
 */
function latencies(records, sentAt, from, to) {
  const ms = [];
  let mismatched = 0;
  for (const r of records) {
    if (r.receivedAt === null || r.profileVersion === null) continue;
    const at = sentAt.get(`${r.profileId}#${r.profileVersion}`);
    if (at === undefined) continue;
    const receivedAt = r.receivedAt instanceof Date ? r.receivedAt.getTime() : Number(r.receivedAt);
    if (receivedAt !== at) mismatched++;
    if (at >= from && at < to) ms.push(r.kafkaTs - at);
  }
  return { ...percentiles(ms), mismatched };
}

/** The segmenter's histograms of the profile-changes consumer (Prometheus text), as cumulative bucket counts. */
async function consumerHistograms(url, topic) {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${cfg.apiKey}` } });
  const text = await res.text();
  const out = {};
  for (const name of ['cdp_record_wait_seconds', 'cdp_batch_duration_seconds', 'cdp_batch_records']) {
    const buckets = [];
    for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
      if (!m[1].includes(`topic="${topic}"`)) continue;
      const le = /le="([^"]+)"/.exec(m[1])?.[1];
      buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: Number(m[2]) });
    }
    out[name] = buckets;
  }
  return out;
}

/**
 * Where the latency of [a, b] goes, from the consumer's histograms: the wait from a profile
 * change's produce to the start of the chunk that handles it, and the chunk's handling time (to
 * its commit; the segment changes are produced within it). Quantiles are bucket upper bounds.
 */
function breakdown(a, b) {
  const quantiles = (name, scale) => {
    const after = b[name] ?? [];
    const diff = after.map((x, i) => ({ le: x.le, count: x.count - (a[name]?.[i]?.count ?? 0) }));
    const total = diff.at(-1)?.count ?? 0;
    const q = (p) => {
      const hit = diff.find((x) => x.count >= p * total);
      return hit ? (hit.le === Infinity ? '>max' : hit.le * scale) : null;
    };
    return { count: total, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
  };
  return {
    recordWaitMs: quantiles('cdp_record_wait_seconds', 1000),
    chunkHandleMs: quantiles('cdp_batch_duration_seconds', 1000),
    chunkRecords: quantiles('cdp_batch_records', 1),
  };
}

/**
 * The floor under any per-change latency: sequential upserts by `_id` (the segmenter's cheapest
 * write) into a scratch collection of the repetition's database, taken with the segmenter idle.
 */
async function mongoRoundTrips(mongoUrl, n = 200) {
  const client = await new MongoClient(mongoUrl).connect();
  try {
    const col = client.db().collection('bench_round_trips');
    const ms = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      await col.updateOne({ _id: `k${i % 50}` }, { $set: { v: i } }, { upsert: true });
      ms.push(Math.round((performance.now() - started) * 10) / 10);
    }
    return percentiles(ms);
  } finally {
    await client.close();
  }
}

/**
 * Round trips of one upsert by `_id` into a scratch collection every `everyMs` while the segmenter
 * works: what each of the segmenter's own sequential store operations costs under that load.
 */
function probeUnderLoad(mongoUrl, everyMs = 250) {
  const ms = [];
  let stopped = false;
  const done = (async () => {
    const client = await new MongoClient(mongoUrl).connect();
    try {
      const col = client.db().collection('bench_round_trips_loaded');
      for (let i = 0; !stopped; i++) {
        const started = performance.now();
        await col.updateOne({ _id: `k${i % 50}` }, { $set: { v: i } }, { upsert: true });
        ms.push(Math.round((performance.now() - started) * 10) / 10);
        await sleep(everyMs);
      }
    } finally {
      await client.close();
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
      return percentiles(ms);
    },
  };
}

async function cleanup(admin, scope) {
  await dropScopeTopics(admin, scope.namespace);
  const client = await new MongoClient(scope.mongoUrl).connect();
  await client.db().dropDatabase();
  await client.close();
}

async function repetition(rep, kafka, admin) {
  const scope = benchScope(cfg.partitions);
  const { registryUrl } = endpoints();
  const segmenter = await startService(root, 'segmenter', cfg.port, { ...scope.env, CDP_DEMO_API_KEY: cfg.apiKey });
  let producer;
  let watch;
  try {
    const headers = { authorization: `Bearer ${cfg.apiKey}`, 'content-type': 'application/json' };
    const ids = [];
    for (const s of SEGMENTS) {
      const res = await fetch(`${segmenter.url}/v1/segments`, { method: 'POST', headers, body: JSON.stringify(s) });
      if (res.status !== 201) throw new Error(`creating ${s.name}: HTTP ${res.status} ${await res.text()}`);
      ids.push((await res.json()).id);
    }
    // Their backfills (over the empty store) start SEGMENT_CACHE_TTL_MS after the create: done before any change is sent.
    for (const id of ids)
      while ((await (await fetch(`${segmenter.url}/v1/segments/${id}`, { headers })).json()).backfill?.status === 'running')
        await sleep(250);
    const topic = scope.namespace + TOPICS.profileChanges;
    const registry = new SchemaRegistry({ host: registryUrl });
    const schemaId = await registerSchema({ root, registryUrl, topic, contract: TOPICS.profileChanges });
    const people = new People(scope.id, cfg.people);
    producer = new ChangeProducer({ kafka, registry, schemaId, topic, people });
    await producer.producer.connect();
    watch = new Watch({ admin, namespace: scope.namespace, pid: segmenter.pid });
    await watch.start();

    // Warm-up (excluded): every person's `created` change, as fast as the segmenter keeps up.
    const capped = async (until, limit = Infinity) => {
      let sent = 0;
      while (Date.now() < until && sent < limit) {
        // Lag against what was acknowledged (the watch's end offsets lag by up to a sampling interval).
        if (producer.acked - (watch.last?.committed ?? 0) > cfg.lagCap) {
          await sleep(20);
          continue;
        }
        const n = Math.min(cfg.batch, limit - sent);
        await producer.send(n);
        sent += n;
      }
      return sent;
    };
    await capped(Date.now() + 120_000, cfg.people);
    await watch.drained(120_000);
    log(`rep ${rep}: warm-up done (${cfg.people} profiles created)`);

    // Phase 1: the maximum rate, lag under the cap (two producers in flight keep the segmenter fed).
    const maxFrom = await watch.sample();
    const maxStart = Date.now();
    const maxUntil = maxStart + cfg.maxSec * 1000;
    await Promise.all([capped(maxUntil), capped(maxUntil)]);
    const maxTo = await watch.sample();
    const max = watch.window(maxFrom, maxTo);
    await watch.drained(120_000);
    const halfRate = Math.max(1, Math.round(max.changesPerSec / 2));
    log(`rep ${rep}: ${max.changesPerSec.toFixed(0)} changes/s at the maximum; ${halfRate}/s for ${cfg.halfSec} s next`);

    // Phase 2: half that rate, paced every 10 ms (a change is produced no more than 10 ms after its slot).
    const halfFrom = await watch.sample();
    const histFrom = await consumerHistograms(segmenter.url, topic);
    const probe = probeUnderLoad(scope.mongoUrl);
    const halfStart = Date.now();
    const halfUntil = halfStart + cfg.halfSec * 1000;
    let due = 0;
    const inFlight = new Set();
    while (Date.now() < halfUntil) {
      const target = Math.floor(((Date.now() - halfStart) / 1000) * halfRate);
      if (target > due) {
        const p = producer.send(target - due).finally(() => inFlight.delete(p));
        inFlight.add(p);
        due = target;
      }
      await sleep(10);
    }
    await Promise.all(inFlight);
    const halfEnd = Date.now();
    const loadedMongoMs = await probe.stop();
    const halfTo = await watch.sample();
    const half = watch.window(halfFrom, halfTo);
    await watch.drained(120_000);
    const where = { ...breakdown(histFrom, await consumerHistograms(segmenter.url, topic)), mongoUpsertUnderLoadMs: loadedMongoMs };
    await sleep(500);
    const records = (await readTopic({ kafka, admin, registry, topic: scope.namespace + TOPICS.segmentChanges, timeoutMs: 60_000 })).map(
      ({ value, timestamp }) => ({ ...value, kafkaTs: timestamp }),
    );
    const mongoMs = await mongoRoundTrips(scope.mongoUrl);
    const r = {
      rep,
      mongoRoundTripMs: mongoMs,
      maxRate: { ...max, latencyMs: latencies(records, producer.sentAt, maxStart, maxUntil) },
      halfRate: { targetPerSec: halfRate, ...half, latencyMs: latencies(records, producer.sentAt, halfStart, halfEnd), where },
      segmentChanges: records.length,
      byKind: records.reduce((m, x) => ((m[`${x.segmentName} ${x.change}`] = (m[`${x.segmentName} ${x.change}`] ?? 0) + 1), m), {}),
    };
    const l = r.halfRate.latencyMs;
    log(
      `rep ${rep}: half rate ${half.changesPerSec.toFixed(0)} changes/s, ${l.count} segment changes, p50 ${l.p50} / p95 ${l.p95} / p99 ${l.p99} ms (max ${l.max}); segmenter ${half.cpuCores?.toFixed(2)} cores, ${half.rssMbMax.toFixed(0)} MB; one Mongo upsert p50 ${mongoMs.p50} / p99 ${mongoMs.p99} ms`,
    );
    const w = (x) => `p50 ${x.p50} / p90 ${x.p90} / p99 ${x.p99}`;
    log(
      `rep ${rep}: at half, wait to handling ${w(where.recordWaitMs)} ms; chunk handling ${w(where.chunkHandleMs)} ms over ${where.chunkHandleMs.count} chunks of ${w(where.chunkRecords)} records; one Mongo upsert meanwhile p50 ${loadedMongoMs.p50} / p99 ${loadedMongoMs.p99} ms`,
    );
    return r;
  } catch (e) {
    console.error(segmenter.output().slice(-4000));
    throw e;
  } finally {
    watch?.stop();
    await producer?.producer.disconnect().catch(() => undefined);
    await segmenter.stop();
    await cleanup(admin, scope).catch((e) => log(`cleanup: ${e.message}`));
  }
}

async function main() {
  prepare(root, { build: args['no-build'] !== 'true', services: ['segmenter'], log });
  const { kafkaBrokers } = endpoints();
  const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-bench-segmenter', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const reps = [];
  try {
    for (let rep = 1; rep <= cfg.reps; rep++) reps.push(await repetition(rep, kafka, admin));
  } finally {
    await admin.disconnect();
  }
  const med = (f) => median(reps.map(f));
  const result = {
    startedAt: new Date(t0).toISOString(),
    config: cfg,
    maxChangesPerSec: med((r) => r.maxRate.changesPerSec),
    halfRate: {
      changesPerSec: med((r) => r.halfRate.changesPerSec),
      latencyMs: {
        p50: med((r) => r.halfRate.latencyMs.p50),
        p95: med((r) => r.halfRate.latencyMs.p95),
        p99: med((r) => r.halfRate.latencyMs.p99),
      },
      cpuCores: med((r) => r.halfRate.cpuCores),
      rssMbMax: med((r) => r.halfRate.rssMbMax),
      where: {
        recordWaitMs: { p50: med((r) => r.halfRate.where.recordWaitMs.p50), p99: med((r) => r.halfRate.where.recordWaitMs.p99) },
        chunkHandleMs: { p50: med((r) => r.halfRate.where.chunkHandleMs.p50), p99: med((r) => r.halfRate.where.chunkHandleMs.p99) },
        chunkRecords: { p50: med((r) => r.halfRate.where.chunkRecords.p50), p99: med((r) => r.halfRate.where.chunkRecords.p99) },
        mongoUpsertUnderLoadMs: {
          p50: med((r) => r.halfRate.where.mongoUpsertUnderLoadMs.p50),
          p99: med((r) => r.halfRate.where.mongoUpsertUnderLoadMs.p99),
        },
      },
    },
    mongoRoundTripMs: { p50: med((r) => r.mongoRoundTripMs.p50), p99: med((r) => r.mongoRoundTripMs.p99) },
    maxRate: {
      cpuCores: med((r) => r.maxRate.cpuCores),
      rssMbMax: med((r) => r.maxRate.rssMbMax),
      latencyMs: { p50: med((r) => r.maxRate.latencyMs.p50), p99: med((r) => r.maxRate.latencyMs.p99) },
    },
    reps,
  };
  result.met = result.halfRate.latencyMs.p99 !== null && result.halfRate.latencyMs.p99 < 100;
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'segmenter-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'segmenter-latest.md'), markdown(result));
  const h = result.halfRate;
  log(
    `median: ${result.maxChangesPerSec.toFixed(0)} changes/s at the maximum; at half, p50 ${h.latencyMs.p50} / p95 ${h.latencyMs.p95} / p99 ${h.latencyMs.p99} ms (target < 100: ${result.met ? 'met' : 'missed'})`,
  );
}

function markdown(r) {
  const f = (x, d = 0) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
  const rows = r.reps.map((x) => {
    const m = x.maxRate;
    const h = x.halfRate;
    return `| ${x.rep} | ${f(m.changesPerSec)} | ${f(m.cpuCores, 2)} | ${f(m.rssMbMax)} | ${f(h.changesPerSec)} | ${h.latencyMs.count} | ${h.latencyMs.p50} / ${h.latencyMs.p95} / ${h.latencyMs.p99} | ${f(h.cpuCores, 2)} | ${f(h.rssMbMax)} | ${x.mongoRoundTripMs.p50} / ${x.mongoRoundTripMs.p99} |`;
  });
  const h = r.halfRate;
  return `# Segmenter alone (${r.startedAt})

${r.config.people.toLocaleString('en')} people cycle through profile changes (plan, phone, orders) on \`cdp.profiles.changes.v1\`
(${r.config.partitions} partitions), which move them in and out of ${r.config.segments.map((s) => `\`${s.definition}\``).join(', ')}.
Maximum rate: ${r.config.maxSec} s with the segmenter's lag under ${r.config.lagCap}; then ${r.config.halfSec} s at half that rate.
Latency: a segment change's Kafka timestamp minus the produce time of the profile change that caused it (matched on profileId and profileVersion).

| rep | max changes/s | cores | RSS MB | half: changes/s | segment changes | latency ms p50 / p95 / p99 | cores | RSS MB | Mongo upsert ms p50 / p99 |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Medians: **${f(r.maxChangesPerSec)} changes/s** at the maximum; at half that rate p50 ${h.latencyMs.p50} ms, p95 ${h.latencyMs.p95} ms, **p99 ${h.latencyMs.p99} ms**
(target < 100 ms: **${r.met ? 'met' : 'missed'}**), segmenter ${f(h.cpuCores, 2)} cores, RSS ${f(h.rssMbMax)} MB.
Where it goes at half the rate (the consumer's histograms, bucket upper bounds, medians over the repetitions): from a change's produce to the
start of the chunk handling it p50 ${h.where.recordWaitMs.p50} / p99 ${h.where.recordWaitMs.p99} ms; handling a chunk (stores, evaluation,
produce, commit) p50 ${h.where.chunkHandleMs.p50} / p99 ${h.where.chunkHandleMs.p99} ms, for chunks of p50 ${h.where.chunkRecords.p50} / p99 ${h.where.chunkRecords.p99} records;
one upsert by \`_id\` every 250 ms meanwhile p50 ${h.where.mongoUpsertUnderLoadMs.p50} / p99 ${h.where.mongoUpsertUnderLoadMs.p99} ms.
The floor, one upsert by \`_id\` on the same database with the segmenter idle: p50 ${r.mongoRoundTripMs.p50} ms, p99 ${r.mongoRoundTripMs.p99} ms.
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
