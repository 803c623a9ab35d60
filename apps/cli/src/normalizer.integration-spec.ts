import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Topics, type NormalizedEvent } from '@cdp/contracts';
import { stackEndpoints, startService, testScope, TopicReader, waitFor, type RunningService } from '@cdp/testing';

/**
 * The real `cdp` against the built normalizer on the real stack: a tracking plan set from a
 * file blocks an event, `dlq list` shows it, and after the plan is relaxed `dlq replay` brings it
 * through once.
 */
const scope = testScope('clinorm');
const PORT = 15_000 + Math.floor(Math.random() * 900) * 10 + 2;
const root = join(__dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'cdp-cli-'));

let normalizer: RunningService;
let producer: Producer;
let normalized: TopicReader<NormalizedEvent>;

beforeAll(async () => {
  normalizer = await startService('normalizer', PORT, scope.env);
  producer = new Kafka({ brokers: stackEndpoints().kafkaBrokers.split(','), clientId: 'cli-test', logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  normalized = await new TopicReader<NormalizedEvent>(`${scope.namespace}${Topics.normalizedEvents.name}`).start();
}, 120_000);

afterAll(async () => {
  await Promise.all([normalized?.stop(), producer?.disconnect()]);
  await normalizer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cdp(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CDP_')));
  const env = { ...base, CDP_API_KEY: 'dev-api-key', CDP_NORMALIZER_URL: normalizer.url };
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin', 'cdp.mjs'), ...args], { env, timeout: 180_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const file = (name: string, value: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

it('manages a tracking plan, lists the dead letter it causes and replays it once fixed', async () => {
  const schema = file('order.json', { type: 'object', required: ['total'], properties: { total: { type: 'number' } } });
  const put = await cdp(['tracking-plans', 'put', 'Order Completed', '--file', schema, '--mode', 'block']);
  expect({ code: put.code, stderr: put.stderr.replace(/^cdp: building.*$/m, '') }).toMatchObject({ code: 0 });
  expect(put.stdout).toContain('mode: block');

  const broken = await cdp(['tracking-plans', 'put', 'Broken', '--file', file('broken.json', { type: 'nonsense' })]);
  expect(broken.code).toBe(1);
  expect(broken.stderr).toContain('PUT /v1/tracking-plans/Broken (normalizer): 400 Bad Request: invalid JSON Schema');

  const id = `m-cli-${scope.id}`;
  await producer.send({
    topic: `${scope.namespace}${Topics.rawEvents.name}`,
    acks: -1,
    messages: [
      { key: 'demo:u', value: JSON.stringify({ type: 'track', event: 'Order Completed', userId: 'u', messageId: id, properties: {} }) },
    ],
  });
  const listing = await waitFor(async () => {
    const r = await cdp(['--json', 'dlq', 'list', '--reason', 'tracking_plan_violation', '--since', '1h']);
    const body = r.code === 0 ? (JSON.parse(r.stdout) as { total: number }) : undefined;
    return body && body.total > 0 ? body : undefined;
  }, 'the dead letter in `cdp dlq list`');
  expect(listing).toMatchObject({ total: 1, counts: [{ reason: 'tracking_plan_violation', stage: 'normalizer', count: 1 }] });
  const human = await cdp(['dlq', 'list']);
  expect(human.stdout).toMatch(/reason: tracking_plan_violation/);

  expect((await cdp(['tracking-plans', 'put', 'Order Completed', '--file', schema, '--mode', 'flag'])).code).toBe(0);
  const replay = await cdp(['dlq', 'replay', '--reason', 'tracking_plan_violation', '--since', '1h']);
  expect(replay).toMatchObject({ code: 0, stdout: 'replayed: 1\nskipped: 0\nreplayedBefore: 0\n' });
  const event = await normalized.waitForRecord((e) => e.messageId === id, 'the replayed event');
  expect(event.value.violations).toEqual(["properties must have required property 'total'"]);
}, 240_000);
