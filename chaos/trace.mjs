#!/usr/bin/env node
// Follows ids through a kept run's topics: `node chaos/trace.mjs <namespace> <messageId|profileId> ...`
// prints every record of the pipeline topics whose value mentions one of them.
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '../bench/lib/sampler.mjs';
import { endpoints } from '../bench/lib/services.mjs';
import { readTopic, registry } from './lib/verify.mjs';

const [ns, ...ids] = process.argv.slice(2);
const { kafkaBrokers, registryUrl } = endpoints();
const kafka = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'cdp-chaos-trace', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const reg = registry(registryUrl);
try {
  for (const topic of Object.values(TOPICS)) {
    for (const r of await readTopic({ kafka, admin, registry: reg, topic: ns + topic })) {
      const v = r.value;
      if (!v || !ids.some((id) => JSON.stringify(v).includes(id))) continue;
      const { messageId, profileId, fromProfileId, intoProfileId, change, version, type, anonymousId, userId, membershipVersion } = v;
      const brief = { messageId, profileId, fromProfileId, intoProfileId, change, version, membershipVersion, type, anonymousId, userId };
      console.log(topic, `p${r.partition}@${r.offset}`, JSON.stringify(brief));
    }
  }
} finally {
  await admin.disconnect();
}
