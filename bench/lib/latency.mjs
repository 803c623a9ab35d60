import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const millis = (v) => (v instanceof Date ? v.getTime() : v == null ? null : Number(v));

/**
 * Every record of a topic (decoded through the registry) with its Kafka timestamp, read from the
 * beginning up to the end offsets taken at the start (or until `timeoutMs`).
 */
export async function readTopic({ kafka, admin, registry, topic, timeoutMs = 30_000 }) {
  const end = (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  const out = [];
  if (end === 0) return out;
  const consumer = kafka.consumer({ groupId: `${topic}.bench-reader.${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        seen++;
        if (m.value) out.push({ value: await registry.decode(m.value), timestamp: Number(m.timestamp) });
      }
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (seen < end && Date.now() < deadline) await sleep(100);
  await consumer.disconnect();
  return out;
}

/**
 * Reads every segment change of the run and pairs the causing event's edge receipt time
 * (value.receivedAt, copied along the pipeline) with the record's Kafka timestamp, which the
 * segmenter's producer stamps when it sends: the event-to-segment-change latency.
 */
export async function readSegmentChanges({ kafka, admin, registryUrl, topic, timeoutMs = 30_000 }) {
  const registry = new SchemaRegistry({ host: registryUrl });
  const out = [];
  for (const { value: v, timestamp } of await readTopic({ kafka, admin, registry, topic, timeoutMs })) {
    const receivedAt = millis(v.receivedAt);
    if (receivedAt) out.push({ receivedAt, producedAt: timestamp, change: v.change, segment: v.segmentName });
  }
  return out;
}

export function percentiles(values) {
  if (values.length === 0) return { p50: null, p95: null, p99: null, max: null, count: 0 };
  const v = [...values].sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)];
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: v[v.length - 1], count: v.length };
}
