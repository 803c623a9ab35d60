#!/usr/bin/env node
// `node bench/kafka-clients.mjs [--quick] [--reps=N] [--records=N] [--ckjs-dir=/tmp/ckjs]`: kafkajs against
// @confluentinc/kafka-javascript (librdkafka, through its KafkaJS-compatible API) on the local stack, issue #8 item 7.
// Per repetition and client, in alternating order: the same N raw-event records (Avro RawEvent in the Confluent wire
// format, keyed `<workspace>:<anonymousId>`) produced to a fresh 3-partition topic with the platform's producer settings,
// then one topic consumed by each client (eachBatch, commit after each batch; the confluent consumer at its default
// js.consumer.max.batch.size of 32, at 500 and unbounded). Throughput and CPU seconds of this
// process (process.cpuUsage, librdkafka's threads included) per 10,000 records; medians of the repetitions.
// The confluent package is loaded from --ckjs-dir (installed there with CKJS_LINKING=dynamic), so the repo does
// not depend on it. Writes bench/results/kafka-clients-latest.{json,md}; deletes its topics and groups.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avsc from 'avsc';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { parseArgs } from './lib/args.mjs';
import { endpoints } from './lib/services.mjs';
import { Workload } from './lib/workload.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { args, num } = parseArgs(process.argv.slice(2));
const cfg = {
  reps: num('reps', 3, 3),
  records: num('records', 100_000, 20_000),
  warmup: num('warmup', 10_000, 5_000),
  partitions: 3,
  batchSize: 500,
  inFlight: 4,
  ckjsDir: args['ckjs-dir'] ?? '/tmp/ckjs',
};
const t0 = Date.now();
const log = (m) => console.log(`[bench:kafka-clients ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuSec = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const ckjs = createRequire(join(cfg.ckjsDir, 'package.json'))('@confluentinc/kafka-javascript');
const ckjsVersion = createRequire(join(cfg.ckjsDir, 'package.json'))('@confluentinc/kafka-javascript/package.json').version;
const brokers = endpoints().kafkaBrokers.split(',');

/** The settings each client runs with, as written into the report. */
const SETTINGS = {
  kafkajs: {
    client: { logLevel: 'NOTHING', retry: { initialRetryTime: 100, retries: 8 } },
    producer: {
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: 'DefaultPartitioner (murmur2)',
    },
    send: { acks: -1, compression: 'None' },
    consumer: { sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 50, allowAutoTopicCreation: false },
    run: { autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1 },
  },
  confluent: {
    client: { kafkaJS: { logLevel: 'ERROR', retry: { initialRetryTime: 100, retries: 8 } } },
    // acks and compression belong to the producer's config here (send() rejects them); the partitioner is fixed to murmur2_random.
    producer: { kafkaJS: { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, acks: -1, compression: 'None' } },
    consumer: {
      kafkaJS: { sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 50, fromBeginning: true, autoCommit: false },
    },
    run: { eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1 },
  },
};

/** The run's raw records: Segment messages from the workload, as the collector encodes them for cdp.events.raw.v1. */
function rawRecords(n) {
  const type = avsc.Type.forSchema(JSON.parse(readFileSync(join(root, 'libs', 'contracts', 'avro', 'cdp.events.raw.v1.avsc'), 'utf8')));
  const workload = new Workload({ runId: 'kc', seed: 11, active: 200 });
  const header = Buffer.from([0, 0, 0, 0, 1]); // magic byte and a schema id: the Confluent wire format
  return Array.from({ length: n }, () => {
    const m = workload.next();
    const payload = { ...m, context: { ...m.context, ip: '203.0.113.7' }, receivedAt: new Date().toISOString() };
    const workspaceId = 'ws-bench';
    const value = Buffer.concat([
      header,
      type.toBuffer({
        workspaceId,
        sourceId: 'src-web',
        messageId: m.messageId,
        type: m.type,
        receivedAt: Date.now(),
        payload: JSON.stringify(payload),
      }),
    ]);
    return { key: `${workspaceId}:${m.anonymousId ?? m.userId ?? m.messageId}`, value };
  });
}

// New message objects per send, as the platform's port builds them: the confluent client writes partition -1 and
// timestamp 0 into the objects it is given, and kafkajs silently drops messages that carry partition -1.
const fresh = (m) => ({ key: m.key, value: m.value });

/** One client's producer and consumer behind the same small interface. */
function clients(kind) {
  if (kind === 'kafkajs') {
    const kafka = new Kafka({
      brokers,
      clientId: 'cdp-bench-kc',
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, retries: 8 },
    });
    return {
      producer: () => {
        const p = kafka.producer({ ...SETTINGS.kafkajs.producer, createPartitioner: Partitioners.DefaultPartitioner });
        return {
          connect: () => p.connect(),
          send: (topic, messages) => p.send({ topic, acks: -1, compression: CompressionTypes.None, messages: messages.map(fresh) }),
          disconnect: () => p.disconnect(),
        };
      },
      consumer: (groupId) => kafka.consumer({ groupId, ...SETTINGS.kafkajs.consumer }),
      subscribe: (c, topic) => c.subscribe({ topic, fromBeginning: true }),
      run: SETTINGS.kafkajs.run,
    };
  }
  const { Kafka: CKafka, logLevel: cLogLevel } = ckjs.KafkaJS;
  const kafka = new CKafka({
    kafkaJS: { brokers, clientId: 'cdp-bench-kc', logLevel: cLogLevel.ERROR, retry: { initialRetryTime: 100, retries: 8 } },
  });
  return {
    producer: () => {
      const p = kafka.producer({ kafkaJS: { ...SETTINGS.confluent.producer.kafkaJS, compression: ckjs.KafkaJS.CompressionTypes.None } });
      return {
        connect: () => p.connect(),
        send: (topic, messages) => p.send({ topic, messages: messages.map(fresh) }),
        disconnect: () => p.disconnect(),
      };
    },
    // maxBatch: js.consumer.max.batch.size, the most records one eachBatch gets (32 unless set).
    consumer: (groupId, maxBatch) =>
      kafka.consumer({
        kafkaJS: { groupId, ...SETTINGS.confluent.consumer.kafkaJS },
        ...(maxBatch ? { 'js.consumer.max.batch.size': maxBatch } : {}),
      }),
    subscribe: (c, topic) => c.subscribe({ topics: [topic] }),
    run: SETTINGS.confluent.run,
  };
}

/** Produces `records` to `topic`: `inFlight` loops of send(500 records), as the ceiling and the collector do. */
async function producePass(kind, topic, records) {
  const producer = clients(kind).producer();
  await producer.connect();
  let i = 0;
  const cpu0 = cpuSec();
  const started = process.hrtime.bigint();
  const loop = async () => {
    while (i < records.length) {
      const batch = records.slice(i, i + cfg.batchSize);
      i += batch.length;
      await producer.send(topic, batch);
    }
  };
  await Promise.all(Array.from({ length: cfg.inFlight }, loop));
  const sec = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSec() - cpu0;
  await producer.disconnect();
  return { recordsPerSec: records.length / sec, cpuSecPer10k: (cpu * 10_000) / records.length, seconds: sec };
}

/** Consumes `total` records of `topic` in a fresh group, committing after each batch; timed from the first batch. */
async function consumePass(kind, topic, total, maxBatch) {
  const c = clients(kind);
  const consumer = c.consumer(`${topic}.${kind}${maxBatch ? `.b${String(maxBatch).replace('-', 'm')}` : ''}.${Date.now()}`, maxBatch);
  await consumer.connect();
  await c.subscribe(consumer, topic);
  let count = 0;
  let batches = 0;
  const perPartition = {};
  let first;
  let done;
  const finished = new Promise((r) => (done = r));
  await consumer.run({
    ...c.run,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (!first) first = { t: process.hrtime.bigint(), cpu: cpuSec() };
      if (batch.messages.length === 0) return;
      const last = batch.messages[batch.messages.length - 1].offset;
      resolveOffset(last);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      count += batch.messages.length;
      perPartition[batch.partition] = (perPartition[batch.partition] ?? 0) + batch.messages.length;
      batches++;
      if (count >= total) done({ t: process.hrtime.bigint(), cpu: cpuSec() });
    },
  });
  const end = await Promise.race([finished, sleep(60_000).then(() => undefined)]);
  const stopping = process.hrtime.bigint();
  await consumer.disconnect();
  // Reported because a slow disconnect delays a service's graceful shutdown.
  const disconnectSeconds = Number(process.hrtime.bigint() - stopping) / 1e9;
  if (!end) throw new Error(`${kind} consumed ${count} of ${total} records of ${topic} in 60 s: ${JSON.stringify(perPartition)}`);
  const sec = Number(end.t - first.t) / 1e9;
  return {
    recordsPerSec: count / sec,
    cpuSecPer10k: ((end.cpu - first.cpu) * 10_000) / count,
    seconds: sec,
    meanBatch: count / batches,
    disconnectSeconds,
  };
}

const PASSES = [
  { name: 'produce kafkajs', kind: 'kafkajs', op: 'produce' },
  { name: 'produce confluent', kind: 'confluent', op: 'produce' },
  { name: 'consume kafkajs', kind: 'kafkajs', op: 'consume' },
  { name: 'consume confluent (batch ≤ 32, default)', kind: 'confluent', op: 'consume' },
  { name: 'consume confluent (batch ≤ 500)', kind: 'confluent', op: 'consume', maxBatch: 500 },
  { name: 'consume confluent (batch unbounded, -1)', kind: 'confluent', op: 'consume', maxBatch: -1 },
];

async function main() {
  log(
    `@confluentinc/kafka-javascript ${ckjsVersion} from ${cfg.ckjsDir} (librdkafka ${ckjs.librdkafkaVersion}); brokers ${brokers.join(',')}`,
  );
  const records = rawRecords(cfg.records);
  const bytes = records.reduce((s, r) => s + r.value.length + Buffer.byteLength(r.key), 0) / records.length;
  log(`${records.length} records, mean ${bytes.toFixed(0)} bytes (key + value)`);
  const admin = new Kafka({ brokers, clientId: 'cdp-bench-kc-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const prefix = `bench.kc.${Date.now().toString(36)}.`;
  const created = [];
  const freshTopic = async (name) => {
    const topic = prefix + name;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: cfg.partitions, replicationFactor: 1 }] });
    created.push(topic);
    return topic;
  };
  const reps = [];
  try {
    // Warm-up: both clients once (JIT, connections, librdkafka's threads), not measured.
    for (const kind of ['kafkajs', 'confluent']) {
      const topic = await freshTopic(`warmup.${kind}`);
      await producePass(kind, topic, records.slice(0, cfg.warmup));
      await consumePass(kind, topic, cfg.warmup);
    }
    for (let rep = 1; rep <= cfg.reps; rep++) {
      // Alternate which client goes first, so a drifting machine does not favour one.
      const order = rep % 2 ? PASSES : [...PASSES.slice(0, 2).reverse(), ...PASSES.slice(2).reverse()];
      const r = { rep, order: order.map((p) => p.name) };
      let consumeTopic;
      for (const p of order.filter((x) => x.op === 'produce')) {
        const topic = await freshTopic(`r${rep}.${p.kind}`);
        r[p.name] = await producePass(p.kind, topic, records);
        const written = (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
        if (written !== records.length) throw new Error(`${p.name}: ${written} of ${records.length} records in ${topic}`);
        // Every client consumes the topic kafkajs wrote: the same record batches on disk.
        if (p.kind === 'kafkajs') consumeTopic = topic;
        log(`rep ${rep} ${p.name}: ${r[p.name].recordsPerSec.toFixed(0)} records/s, ${r[p.name].cpuSecPer10k.toFixed(3)} CPU s per 10k`);
      }
      for (const p of order.filter((x) => x.op === 'consume')) {
        r[p.name] = await consumePass(p.kind, consumeTopic, records.length, p.maxBatch);
        log(
          `rep ${rep} ${p.name}: ${r[p.name].recordsPerSec.toFixed(0)} records/s, ${r[p.name].cpuSecPer10k.toFixed(3)} CPU s per 10k, mean batch ${r[p.name].meanBatch.toFixed(0)}, disconnect ${r[p.name].disconnectSeconds.toFixed(1)} s`,
        );
      }
      reps.push(r);
    }
  } finally {
    await admin.deleteTopics({ topics: created, timeout: 30_000 }).catch((e) => log(`deleting topics: ${e.message}`));
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length) await admin.deleteGroups(groups).catch((e) => log(`deleting groups: ${e.message}`));
    await admin.disconnect();
  }
  const medians = Object.fromEntries(
    PASSES.map((p) => [
      p.name,
      {
        recordsPerSec: median(reps.map((r) => r[p.name].recordsPerSec)),
        cpuSecPer10k: median(reps.map((r) => r[p.name].cpuSecPer10k)),
        ...(p.op === 'consume'
          ? {
              meanBatch: median(reps.map((r) => r[p.name].meanBatch)),
              disconnectSeconds: median(reps.map((r) => r[p.name].disconnectSeconds)),
            }
          : {}),
      },
    ]),
  );
  const ratio = (a, b) => ({
    throughput: medians[a].recordsPerSec / medians[b].recordsPerSec,
    cpuPerRecord: medians[a].cpuSecPer10k / medians[b].cpuSecPer10k,
  });
  const result = {
    startedAt: new Date(t0).toISOString(),
    config: { ...cfg, meanRecordBytes: Math.round(bytes), brokers },
    versions: { node: process.version, kafkajs: '2.2.4', confluent: ckjsVersion, librdkafka: ckjs.librdkafkaVersion },
    settings: SETTINGS,
    medians,
    ratios: {
      produce: ratio('produce confluent', 'produce kafkajs'),
      consumeDefault: ratio('consume confluent (batch ≤ 32, default)', 'consume kafkajs'),
      consume500: ratio('consume confluent (batch ≤ 500)', 'consume kafkajs'),
      consumeUnbounded: ratio('consume confluent (batch unbounded, -1)', 'consume kafkajs'),
    },
    reps,
  };
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kafka-clients-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'kafka-clients-latest.md'), markdown(result));
  log(`wrote bench/results/kafka-clients-latest.{json,md}`);
}

function markdown(r) {
  const f = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const rows = Object.entries(r.medians).map(
    ([name, m]) =>
      `| ${name} | ${f(m.recordsPerSec)} | ${f(m.cpuSecPer10k, 3)} | ${m.meanBatch ? f(m.meanBatch) : ''} | ${m.meanBatch ? f(m.disconnectSeconds, 1) : ''} |`,
  );
  const ratioRow = (name, x) => `| ${name} | ${f(x.throughput, 2)} | ${f(x.cpuPerRecord, 2)} |`;
  return `# kafkajs vs @confluentinc/kafka-javascript (${r.startedAt})

${f(r.config.records)} raw-event records (mean ${r.config.meanRecordBytes} bytes, key \`<workspace>:<anonymousId>\`), fresh topic of
${r.config.partitions} partitions, ${r.config.reps} repetitions (clients interleaved, order alternating), medians.
Produce: ${r.config.inFlight} loops of send(${r.config.batchSize} records). Consume: eachBatch, commit after each batch, timed from the first batch.
CPU: seconds of the bench process (librdkafka's threads included) per 10,000 records.
Node ${r.versions.node}, kafkajs ${r.versions.kafkajs}, @confluentinc/kafka-javascript ${r.versions.confluent} (librdkafka ${r.versions.librdkafka}).

| pass | records/s | CPU s / 10k records | mean batch | disconnect s |
|---|---:|---:|---:|---:|
${rows.join('\n')}

| confluent / kafkajs | throughput | CPU per record |
|---|---:|---:|
${ratioRow('produce', r.ratios.produce)}
${ratioRow('consume, default batch (≤ 32)', r.ratios.consumeDefault)}
${ratioRow('consume, js.consumer.max.batch.size 500', r.ratios.consume500)}
${ratioRow('consume, js.consumer.max.batch.size -1', r.ratios.consumeUnbounded)}

Settings:

\`\`\`json
${JSON.stringify(r.settings, null, 2)}
\`\`\`
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
