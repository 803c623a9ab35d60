// Pieces of the one-stage benchmarks (a consuming service alone, draining a backlog): the
// platform's producer, schema registration, and the watch over a consumer group's commits.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { procSample } from './services.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The platform's producer settings (libs/kafka): idempotent, one request in flight, murmur2 partitioner. */
export const platformProducer = (kafka) =>
  kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });

/** Registers a contract's schema (libs/contracts/avro/<name>.avsc) under `<topic>-value`, as the services' codec does; its id. */
export async function registerSchema({ root, registryUrl, topic, contract }) {
  // Minified, as libs/contracts' generated constant that the services register: the same text, the same id.
  const schema = JSON.stringify(JSON.parse(readFileSync(join(root, 'libs', 'contracts', 'avro', `${contract}.avsc`), 'utf8')));
  const res = await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${topic}-value`)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema, schemaType: 'AVRO' }),
  });
  if (!res.ok) throw new Error(`registering ${topic}-value: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}

/**
 * Polls a consumer group's committed offsets on `topic` (every 200 ms) until it has committed
 * `total`. The rate is taken between the shares `window` of the backlog (warm-up before it, the
 * ragged tail after); `onCross(share)` runs once as the committed share first reaches each bound.
 */
export async function watchGroup({ admin, groupId, topic, total, pid, window = [0.1, 0.9], onCross, timeoutMs = 15 * 60_000 }) {
  const samples = [];
  const marks = {};
  const started = Date.now();
  for (;;) {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0].partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    const s = { t: Date.now(), committed, proc: pid ? procSample(pid) : undefined };
    samples.push(s);
    for (const share of window) {
      if (marks[share] === undefined && committed >= share * total) {
        marks[share] = { ...s, extra: onCross ? await onCross(share) : undefined };
      }
    }
    if (committed >= total) break;
    if (Date.now() - started > timeoutMs) throw new Error(`${groupId}: ${committed} of ${total} committed after ${timeoutMs / 1000} s`);
    await sleep(200);
  }
  const [a, b] = window.map((share) => marks[share]);
  const sec = Math.max(0.001, (b.t - a.t) / 1000);
  const first = samples.find((s) => s.committed > 0) ?? samples[0];
  const inWindow = samples.filter((s) => s.t >= a.t && s.t <= b.t);
  return {
    eventsPerSec: (b.committed - a.committed) / sec,
    windowSeconds: sec,
    drainSeconds: (samples.at(-1).t - first.t) / 1000,
    cpuCores: a.proc && b.proc ? (b.proc.cpuSec - a.proc.cpuSec) / sec : undefined,
    rssMbMax: pid ? Math.max(...inWindow.map((s) => s.proc?.rssBytes ?? 0)) / 2 ** 20 : undefined,
    marks: { from: a, to: b },
  };
}

/** Deletes a bench scope's topics and consumer groups. */
export async function dropScopeTopics(admin, namespace) {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(namespace));
  if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(namespace));
  if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
}

/**
 * A bare stage with a service's consumer settings (eachBatch, manual commits, chunks of `chunk`,
 * `partitions` at once): per chunk `work(messages)`, then the records produced unchanged to `to`
 * (acks=all), then the commit. The ceilings of the one-stage benchmarks put their database work in `work`.
 */
export async function bareStage({ kafka, groupId, from, to, partitions, chunk = 500, work }) {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const producer = platformProducer(kafka);
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: from, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: partitions,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (let i = 0; i < batch.messages.length; i += chunk) {
        const part = batch.messages.slice(i, i + chunk);
        await work(part);
        await producer.send({ topic: to, acks: -1, messages: part.map((m) => ({ key: m.key, value: m.value })) });
        const last = part.at(-1).offset;
        resolveOffset(last);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        await heartbeat();
      }
    },
  });
  return {
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
