// Helm pre-install/pre-upgrade hook: creates the CDP topics and registers their value schemas.
// Runs with `node` in a service image (kafkajs from its node_modules via NODE_PATH); plain
// CommonJS with no build step so the chart can ship it in a ConfigMap.
//
// Input: $CDP_SETUP_DIR/topics.json (rendered from values), $CDP_SETUP_DIR/<topic>.avsc,
// env KAFKA_BROKERS, SCHEMA_REGISTRY_URL, CDP_TOPIC_NAMESPACE, KAFKA_SASL_*, KAFKA_SSL*,
// SCHEMA_REGISTRY_USERNAME/PASSWORD. Idempotent: a second run changes nothing.
// Exit 1 (the hook, and so the install/upgrade, fails) when a topic cannot be made to match
// or a schema is refused by its subject's compatibility mode.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Kafka, logLevel } = require('kafkajs');

const dir = process.env.CDP_SETUP_DIR || '/etc/cdp/setup';
const plan = JSON.parse(fs.readFileSync(path.join(dir, 'topics.json'), 'utf8'));
const ns = process.env.CDP_TOPIC_NAMESPACE || '';
const log = (msg) => console.log(`[cdp-setup] ${msg}`);

function kafkaClient() {
  const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',');
  const sslOn = process.env.KAFKA_SSL === 'true';
  const caFile = process.env.KAFKA_SSL_CA_FILE;
  const ssl = sslOn ? (caFile ? { ca: [fs.readFileSync(caFile, 'utf8')] } : true) : false;
  const mechanism = process.env.KAFKA_SASL_MECHANISM;
  const sasl = mechanism
    ? { mechanism, username: process.env.KAFKA_SASL_USERNAME || '', password: process.env.KAFKA_SASL_PASSWORD || '' }
    : undefined;
  return new Kafka({ clientId: 'cdp-setup', brokers, ssl, sasl, logLevel: logLevel.WARN, retry: { retries: 10 } });
}

/** The configs a topic should have (all as strings, as Kafka reports them). */
function desiredConfigs(t) {
  const configs = {
    'cleanup.policy': t.cleanupPolicy,
    'min.insync.replicas': String(t.minInsyncReplicas),
    ...(t.retentionMs !== undefined && t.retentionMs !== null ? { 'retention.ms': String(t.retentionMs) } : {}),
  };
  for (const [k, v] of Object.entries(t.extraConfig || {})) configs[k] = String(v);
  return configs;
}

async function setupTopics(admin) {
  const existing = new Set(await admin.listTopics());
  const wanted = plan.topics.map((t) => ({ ...t, fullName: ns + t.name, configs: desiredConfigs(t) }));
  const missing = wanted.filter((t) => !existing.has(t.fullName));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.fullName,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
      })),
    });
    for (const t of missing) log(`created ${t.fullName} (${t.partitions} partitions, rf ${t.replicationFactor}, ${t.cleanupPolicy})`);
  }
  const present = wanted.filter((t) => existing.has(t.fullName));
  if (present.length === 0) return;

  const problems = [];
  const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.fullName) });
  const partitionsOf = new Map(meta.topics.map((m) => [m.name, m.partitions.length]));
  for (const t of present) {
    const actual = partitionsOf.get(t.fullName) ?? 0;
    if (actual > t.partitions) {
      // Kafka cannot remove partitions; harmless for scaling (the replica ceiling comes from the smaller value).
      log(`WARNING ${t.fullName} has ${actual} partitions, values say ${t.partitions}; set the value to ${actual} to scale further`);
    } else if (actual < t.partitions) {
      if (!plan.allowPartitionIncrease) {
        problems.push(
          `${t.fullName} has ${actual} partitions, values say ${t.partitions}: set topicsJob.allowPartitionIncrease=true ` +
            '(keys move to other partitions; order per key holds only for new records) or lower the value',
        );
      } else {
        await admin.createPartitions({ topicPartitions: [{ topic: t.fullName, count: t.partitions }] });
        log(`${t.fullName}: partitions ${actual} -> ${t.partitions}`);
      }
    }
  }

  if (plan.alterExistingConfigs) {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((t) => ({ type: 2 /* TOPIC */, name: t.fullName })),
    });
    for (const t of present) {
      const current = described.resources.find((r) => r.resourceName === t.fullName);
      const values = new Map((current?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
      const drift = Object.entries(t.configs).filter(([k, v]) => values.get(k) !== v);
      if (drift.length === 0) continue;
      // AlterConfigs (not incremental) replaces the topic's dynamic configs: send every managed one.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2, name: t.fullName, configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })) }],
      });
      log(`${t.fullName}: updated ${drift.map(([k, v]) => `${k}=${v}`).join(', ')}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

async function registry(method, urlPath, body) {
  const base = (process.env.SCHEMA_REGISTRY_URL || 'http://localhost:8081').replace(/\/+$/, '');
  const headers = {
    'content-type': 'application/vnd.schemaregistry.v1+json',
    accept: 'application/vnd.schemaregistry.v1+json, application/json',
  };
  const user = process.env.SCHEMA_REGISTRY_USERNAME;
  if (user) headers.authorization = `Basic ${Buffer.from(`${user}:${process.env.SCHEMA_REGISTRY_PASSWORD || ''}`).toString('base64')}`;
  for (let attempt = 1; ; attempt++) {
    let res;
    try {
      res = await fetch(base + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      // The registry may still be starting next to us (fresh cluster): retry connection errors only.
      if (attempt >= 10) throw new Error(`${method} ${urlPath}: ${e.message}`);
      await new Promise((r) => setTimeout(r, attempt * 1000));
      continue;
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { message: text };
    }
    return { status: res.status, json };
  }
}

async function setupSchemas() {
  for (const t of plan.topics) {
    const subject = encodeURIComponent(`${ns}${t.name}-value`);
    const schema = fs.readFileSync(path.join(dir, `${t.name}.avsc`), 'utf8');
    // Compatibility first, so that the registration below is checked against it.
    const config = await registry('PUT', `/config/${subject}`, { compatibility: plan.compatibility });
    const configSetBefore = config.status === 200;
    if (!configSetBefore && config.status !== 404 && config.status !== 40401) {
      throw new Error(`setting compatibility of ${subject}: HTTP ${config.status} ${config.json.message ?? ''}`);
    }
    const reg = await registry('POST', `/subjects/${subject}/versions`, { schema });
    if (reg.status === 409) {
      throw new Error(
        `schema of ${subject} is not ${plan.compatibility}-compatible with the registered versions: ${reg.json.message ?? ''}`,
      );
    }
    if (reg.status !== 200) throw new Error(`registering ${subject}: HTTP ${reg.status} ${reg.json.message ?? ''}`);
    // Some registries (Apicurio) only accept a subject config once the subject exists.
    if (!configSetBefore) {
      const again = await registry('PUT', `/config/${subject}`, { compatibility: plan.compatibility });
      if (again.status !== 200) throw new Error(`setting compatibility of ${subject}: HTTP ${again.status} ${again.json.message ?? ''}`);
    }
    log(`${decodeURIComponent(subject)}: schema id ${reg.json.id}, ${plan.compatibility}`);
  }
}

async function main() {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await setupTopics(admin);
  } finally {
    await admin.disconnect();
  }
  if (plan.registerSchemas) await setupSchemas();
  log('done');
}

main().catch((e) => {
  console.error(`[cdp-setup] FAILED: ${e.message}`);
  process.exit(1);
});
