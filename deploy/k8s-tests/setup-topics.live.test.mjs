// @ts-check
// The chart's setup hook script (deploy/helm/cdp/files/setup-topics.cjs) against the real local stack
// (Kafka + Apicurio): creates topics and schemas, is idempotent, refuses what it must refuse.
// Run: node --test deploy/k8s-tests/setup-topics.live.test.mjs   (needs `npm run stack:up`)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(repo, 'deploy/helm/cdp/files/setup-topics.cjs');
const brokers = process.env.KAFKA_BROKERS || 'localhost:9092';
const registryUrl = process.env.SCHEMA_REGISTRY_URL || 'http://localhost:8081/apis/ccompat/v7';
const ns = `k8st${randomBytes(4).toString('hex')}.`;
const dir = mkdtempSync(join(tmpdir(), 'cdp-setup-'));
const schemaDir = join(repo, 'libs/contracts/avro');
const names = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.avsc'))
  .map((f) => f.slice(0, -'.avsc'.length));

/** @param {{partitions?: Record<string, number>, allowPartitionIncrease?: boolean}} [opts] */
function writePlan(opts = {}) {
  const topics = names.map((name) => ({
    name,
    partitions: opts.partitions?.[name] ?? 2,
    replicationFactor: 1,
    minInsyncReplicas: 1,
    cleanupPolicy: name === 'cdp.profiles.changes.v1' ? 'compact' : 'delete',
    retentionMs: name === 'cdp.profiles.changes.v1' ? -1 : 604800000,
    extraConfig: {},
  }));
  const plan = {
    topics,
    compatibility: 'FULL_TRANSITIVE',
    registerSchemas: true,
    allowPartitionIncrease: !!opts.allowPartitionIncrease,
    alterExistingConfigs: true,
  };
  writeFileSync(join(dir, 'topics.json'), JSON.stringify(plan));
}

function runSetup() {
  const env = { ...process.env, CDP_SETUP_DIR: dir, CDP_TOPIC_NAMESPACE: ns, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl };
  const r = spawnSync(process.execPath, [script], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const kafka = new kafkajs.Kafka({ clientId: 'k8s-tests', brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING });
const admin = kafka.admin();

before(async () => {
  for (const n of names) copyFileSync(join(schemaDir, `${n}.avsc`), join(dir, `${n}.avsc`));
  await admin.connect();
});

after(async () => {
  await admin.deleteTopics({ topics: names.map((n) => ns + n) }).catch(() => undefined);
  await admin.disconnect();
  for (const n of names) {
    await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${ns}${n}-value`)}`, { method: 'DELETE' }).catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('creates every topic with its partitions and cleanup policy, and sets each subject compatibility', async () => {
  writePlan();
  const r = runSetup();
  assert.equal(r.code, 0, r.out);
  const meta = await admin.fetchTopicMetadata({ topics: names.map((n) => ns + n) });
  for (const t of meta.topics) assert.equal(t.partitions.length, 2, t.name);
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: `${ns}cdp.profiles.changes.v1` }],
  });
  const policy = configs.resources[0].configEntries.find((e) => e.configName === 'cleanup.policy');
  assert.equal(policy?.configValue, 'compact');
  for (const n of names) {
    const res = await fetch(`${registryUrl}/config/${encodeURIComponent(`${ns}${n}-value`)}`);
    assert.equal(res.status, 200, n);
    assert.equal((await res.json()).compatibilityLevel, 'FULL_TRANSITIVE', n);
    const versions = await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${ns}${n}-value`)}/versions`);
    assert.deepEqual(await versions.json(), [1], n);
  }
});

test('a second run changes nothing', () => {
  writePlan();
  const r = runSetup();
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /created|updated|partitions \d+ ->/);
});

test('refuses to add partitions unless allowed, then adds them', async () => {
  const raw = 'cdp.events.raw.v1';
  writePlan({ partitions: { [raw]: 3 } });
  const refused = runSetup();
  assert.equal(refused.code, 1);
  assert.match(refused.out, /has 2 partitions, values say 3: set topicsJob.allowPartitionIncrease=true/);
  writePlan({ partitions: { [raw]: 3 }, allowPartitionIncrease: true });
  const allowed = runSetup();
  assert.equal(allowed.code, 0, allowed.out);
  const meta = await admin.fetchTopicMetadata({ topics: [ns + raw] });
  assert.equal(meta.topics[0].partitions.length, 3);
});

test('fails on a schema change that breaks FULL_TRANSITIVE, accepts one that keeps it', () => {
  writePlan({ partitions: { 'cdp.events.raw.v1': 3 } });
  const dlq = join(dir, 'cdp.events.dlq.v1.avsc');
  const original = JSON.parse(readFileSync(join(schemaDir, 'cdp.events.dlq.v1.avsc'), 'utf8'));
  writeFileSync(dlq, JSON.stringify({ ...original, fields: [...original.fields, { name: 'mandatoryNew', type: 'string' }] }));
  const refused = runSetup();
  assert.equal(refused.code, 1);
  assert.match(refused.out, /dlq\.v1-value is not FULL_TRANSITIVE-compatible/);
  writeFileSync(
    dlq,
    JSON.stringify({ ...original, fields: [...original.fields, { name: 'optionalNew', type: ['null', 'string'], default: null }] }),
  );
  const accepted = runSetup();
  assert.equal(accepted.code, 0, accepted.out);
});
