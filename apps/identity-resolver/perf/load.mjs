#!/usr/bin/env node
/**
 * Throughput of the built identity-resolver alone, backlogged: starts dist/apps/identity-resolver/main.js
 * in a private topic namespace and database, produces a seeded stream of normalized events (journeys:
 * anonymous pages and tracks, identify calls with user id, email, phone and sometimes a name and a
 * birthday, orders), and measures events/s until all are handled, plus the database commands
 * (round trips) per event from the service's own metrics. Cleans up its database afterwards.
 *
 *   node apps/identity-resolver/perf/load.mjs [--events 3000] [--seed 7] [--cpu-prof] [--main path/to/main.js]
 *
 * Stack endpoints from KAFKA_BROKERS, SCHEMA_REGISTRY_URL, MONGO_URL (the local stack's defaults otherwise).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '3000' },
    main: { type: 'string' },
    seed: { type: 'string', default: '7' },
    'cpu-prof': { type: 'boolean' },
  },
});
const N = Number(args.events);
const brokers = process.env.KAFKA_BROKERS || 'localhost:9092';
const registryUrl = process.env.SCHEMA_REGISTRY_URL || 'http://localhost:8081/apis/ccompat/v7';
const mongoBase = process.env.MONGO_URL || 'mongodb://localhost:27017/cdp';
const id = randomBytes(4).toString('hex');
const namespace = `perf.${id}.`;
const database = `cdp_perf_${id}`;
const mongoUrl = Object.assign(new URL(mongoBase), { pathname: `/${database}` }).toString();
const port = 13_900 + Math.floor(Math.random() * 90);
const input = `${namespace}cdp.events.normalized.v1`;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Journeys of people, interleaved 100 at a time, like the benchmark's workload. */
function stream(n, seed) {
  const random = rng(seed);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const FIRST = ['Anna', 'Ben', 'Clara', 'David', 'Eva', 'Felix', 'Greta', 'Hugo', 'Ida', 'Jonas'];
  const LAST = ['Muller', 'Schmidt', 'Garcia', 'Martin', 'Rossi', 'Novak', 'Smith', 'Dubois'];
  let person = 0;
  let seq = 0;
  const T0 = Date.UTC(2026, 0, 1);
  const event = (over) => ({
    workspaceId: 'perf',
    sourceId: 'web',
    messageId: `m-${id}-${++seq}`,
    type: 'track',
    event: null,
    name: null,
    userId: null,
    anonymousId: null,
    groupId: null,
    previousId: null,
    timestamp: T0 + seq * 1000,
    receivedAt: T0 + seq * 1000,
    traits: '{}',
    properties: '{}',
    context: '{}',
    violations: [],
    ...over,
  });
  const journey = () => {
    const i = person++;
    const userId = `u-${id}-${i}`;
    const devices = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, k) => `a-${id}-${i}-${k}`);
    const traits = { email: `p${i}.${id}@example.com`, phone: `+4915${String(10_000_000 + i)}` };
    if (random() < 0.4)
      Object.assign(traits, { firstName: pick(FIRST), lastName: pick(LAST), birthday: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}` });
    const out = [];
    for (const anonymousId of devices) {
      for (let p = 0; p < 3; p++) out.push({ type: 'page', name: 'Home', anonymousId });
      out.push({ type: 'track', event: 'Product Viewed', anonymousId, properties: '{"product_id":"sku-1"}' });
      out.push({ type: 'identify', userId, anonymousId, traits: JSON.stringify(traits) });
      out.push({ type: 'track', event: 'Order Completed', userId, anonymousId, properties: '{"total":10}' });
    }
    return out;
  };
  const active = Array.from({ length: 100 }, journey);
  const events = [];
  while (events.length < n) {
    const j = Math.floor(random() * active.length);
    const next = active[j].shift();
    if (active[j].length === 0) active[j] = journey();
    events.push(event(next));
  }
  return events;
}

async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (prefix, filter = () => true) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(prefix) && filter(l))
      .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
  const commands = Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.startsWith('cdp_identity_db_commands_total{'))
      .map((l) => [/command="([^"]+)"/.exec(l)[1], Number(l.split(' ').at(-1))]),
  );
  const stages = Object.fromEntries(
    ['decode', 'group', 'resolve', 'produce'].map((s) => [s, sum('cdp_identity_stage_seconds_sum', (l) => l.includes(`stage="${s}"`))]),
  );
  return { handled: sum('cdp_records_processed_total{', (l) => l.includes(`topic="${input}"`)), commands, stages };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const main = args.main ?? join(root, 'dist', 'apps', 'identity-resolver', 'main.js');
const child = spawn(
  process.execPath,
  [...(args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', join(root, 'tmp', 'resolver-prof')] : []), main],
  {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      MONGO_URL: mongoUrl,
      CDP_TOPIC_NAMESPACE: namespace,
      CDP_TOPIC_PARTITIONS: '2',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const url = `http://127.0.0.1:${port}`;
try {
  for (let t = Date.now(); ; await sleep(200)) {
    if (child.exitCode !== null) throw new Error('the resolver exited');
    if (Date.now() - t > 90_000) throw new Error('the resolver did not get ready');
    if ((await fetch(`${url}/health/ready`).catch(() => null))?.ok) break;
  }
  // The input schema, registered as the normalizer would.
  const schema = readFileSync(join(root, 'libs', 'contracts', 'avro', 'cdp.events.normalized.v1.avsc'), 'utf8');
  const res = await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${input}-value`)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema }),
  });
  const { id: schemaId } = await res.json();
  const registry = new SchemaRegistry({ host: registryUrl });
  const events = stream(N, Number(args.seed));
  const encoded = [];
  for (const e of events) encoded.push({ key: `perf:${e.anonymousId ?? e.userId}`, value: await registry.encode(schemaId, e) });

  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'resolver-perf', logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  // One event first, so the consumer has joined its group and been assigned the partitions before the clock starts.
  const [warmUp] = stream(1, 1).map((e) => ({ ...e, messageId: `warm-${id}`, anonymousId: `warm-${id}` }));
  await producer.send({ topic: input, acks: -1, messages: [{ key: `perf:warm-${id}`, value: await registry.encode(schemaId, warmUp) }] });
  for (let t = Date.now(); (await metrics(url)).handled < 1; await sleep(100)) if (Date.now() - t > 60_000) throw new Error('no warm-up');
  const before = await metrics(url);
  const t0 = Date.now();
  for (let i = 0; i < encoded.length; i += 500) await producer.send({ topic: input, acks: -1, messages: encoded.slice(i, i + 500) });
  await producer.disconnect();
  let after;
  for (;;) {
    after = await metrics(url);
    if (after.handled - before.handled >= N) break;
    if (process.env.PERF_PROGRESS) console.error(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${after.handled - before.handled}`);
    if (Date.now() - t0 > 120_000) throw new Error(`timed out: ${after.handled - before.handled} of ${N} handled`);
    await sleep(process.env.PERF_PROGRESS ? 2000 : 100);
  }
  const seconds = (Date.now() - t0) / 1000;
  const commands = Object.fromEntries(
    Object.entries(after.commands)
      .map(([c, n]) => [c, n - (before.commands[c] ?? 0)])
      .filter(([, n]) => n > 0),
  );
  const total = Object.values(commands).reduce((a, b) => a + b, 0);
  const perEvent = Object.fromEntries(Object.entries(commands).map(([c, n]) => [c, +(n / N).toFixed(2)]));
  const stages = Object.fromEntries(Object.entries(after.stages).map(([s, v]) => [s, +(v - before.stages[s]).toFixed(2)]));
  console.log(
    JSON.stringify({
      events: N,
      seconds,
      eventsPerSecond: +(N / seconds).toFixed(1),
      roundTripsPerEvent: +(total / N).toFixed(2),
      perEvent,
      stageSeconds: stages,
    }),
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  const client = await new MongoClient(mongoUrl).connect();
  await client
    .db(database)
    .dropDatabase()
    .catch(() => undefined);
  await client.close();
  const admin = new Kafka({ brokers: brokers.split(','), clientId: 'resolver-perf-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(namespace));
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}
