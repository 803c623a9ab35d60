#!/usr/bin/env node
// A kept (failed) chaos run: `node chaos/inspect.mjs <namespace>` prints, per consumer group, the
// committed and end offsets per partition and the members; `--drop` deletes its topics, groups and database.
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { TOPICS } from '../bench/lib/sampler.mjs';
import { endpoints } from '../bench/lib/services.mjs';
import { GROUP_INPUTS } from './lib/verify.mjs';

const ns = process.argv[2];
if (!ns || !/^(chaos|bench)\.[a-z0-9]+\.$/.test(ns)) {
  console.error('usage: node chaos/inspect.mjs chaos.<id>. [--drop]');
  process.exit(2);
}
const { kafkaBrokers, mongoUrl } = endpoints();
const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-chaos-inspect', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
try {
  if (process.argv.includes('--drop')) {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(ns));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(ns));
    if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
    const url = new URL(mongoUrl);
    url.pathname = `/cdp_${ns.split('.')[0]}_${ns.split('.')[1]}`;
    const client = await new MongoClient(url.toString()).connect();
    await client.db().dropDatabase();
    await client.close();
    console.log(`dropped ${topics.length} topics, ${groups.length} groups and database ${url.pathname.slice(1)}`);
  } else {
    for (const [service, inputs] of Object.entries(GROUP_INPUTS)) {
      const groupId = `${ns}cdp.${service}`;
      const topics = inputs.map((i) => ns + TOPICS[i]);
      const committed = await admin.fetchOffsets({ groupId, topics });
      const { groups } = await admin.describeGroups([groupId]);
      console.log(`${service}: ${groups[0].state}, members ${JSON.stringify(groups[0].members.map((m) => m.clientId))}`);
      for (const t of committed) {
        const ends = await admin.fetchTopicOffsets(t.topic);
        const high = Object.fromEntries(ends.map((e) => [e.partition, e.high]));
        const parts = t.partitions.map((p) => `p${p.partition} ${p.offset}/${high[p.partition]}`).join(', ');
        console.log(`  ${t.topic.slice(ns.length)}: committed/end ${parts}`);
      }
    }
  }
} finally {
  await admin.disconnect();
}
