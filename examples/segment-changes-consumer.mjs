// A downstream service reacting to segment entries and exits: reads cdp.segments.changes.v1,
// decodes each value through the schema registry and acts once per transition.
// With `npm start` running: node examples/segment-changes-consumer.mjs   (Ctrl-C stops it)
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';

const kafka = new Kafka({
  clientId: 'segment-changes-example',
  brokers: (process.env.KAFKA_BROKERS ?? 'localhost:9092').split(','),
  logLevel: logLevel.WARN,
});
const registry = new SchemaRegistry({ host: process.env.SCHEMA_REGISTRY_URL ?? 'http://localhost:8081/apis/ccompat/v7' });
const topic = `${process.env.CDP_TOPIC_NAMESPACE ?? ''}cdp.segments.changes.v1`;

const consumer = kafka.consumer({ groupId: process.env.EXAMPLE_GROUP_ID ?? 'segment-changes-example' });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
process.once('SIGINT', () => void consumer.disconnect().then(() => process.exit(0)));

// Kafka may deliver a record again (after a crash or a rebalance): a transition is identified by
// segment, profile and membershipVersion. A real service keeps these in its own store.
const done = new Set();
await consumer.run({
  eachMessage: async ({ message }) => {
    if (message.value === null) return;
    const change = await registry.decode(message.value);
    const id = `${change.segmentId}/${change.profileId}/${change.membershipVersion}`;
    if (done.has(id)) return;
    done.add(id);
    // Everything needed to act without a lookup: who (identifiers), and the traits the segment names.
    const who = change.identifiers.map((i) => `${i.type}:${i.value}`).join(' ');
    console.log(`${change.workspaceId} ${change.change} "${change.segmentName}" ${change.profileId} ${who} ${change.traits ?? ''}`);
  },
});
