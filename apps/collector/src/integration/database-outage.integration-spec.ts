import { Topics, type RawEvent } from '@cdp/contracts';
import { startService, TcpProxy, testScope, TopicReader, waitFor, type RunningService } from '@cdp/testing';

/**
 * The database going away under a running collector (through a relay the test cuts, so the
 * shared database stays up): a key verified before keeps ingesting into Kafka, an unknown key
 * gets 503 with Retry-After rather than a 500, and once the database is back the unknown key
 * is refused as such. Readiness holds throughout: the collector can ride the outage out.
 */
const scope = testScope('colldbout');
const PORT = 15_000 + Math.floor(Math.random() * 900);
const KEY_CACHE_MS = 500;
const auth = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
let proxy: TcpProxy;
let collector: RunningService;
let raw: TopicReader<RawEvent>;

beforeAll(async () => {
  const mongo = new URL(scope.mongoUrl);
  proxy = new TcpProxy(mongo.hostname, Number(mongo.port || 27017));
  mongo.hostname = '127.0.0.1';
  mongo.port = String(await proxy.start());
  collector = await startService('collector', PORT, { ...scope.env, MONGO_URL: mongo.toString(), CDP_KEY_CACHE_MS: String(KEY_CACHE_MS) });
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
}, 90_000);
afterAll(async () => {
  proxy?.restore();
  await raw?.stop();
  await collector?.stop();
  await proxy?.stop();
});

const track = (key: string, messageId: string) =>
  fetch(`${collector.url}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth(key) },
    body: JSON.stringify({ userId: 'u-dbout', event: 'Outage', messageId }),
  });

it('keeps known keys ingesting and answers 503, not 500, for what needs the database', async () => {
  expect((await track('dev-write-key', `before-${scope.id}`)).status).toBe(200);

  proxy.cut();
  // Past the cache time, so the known key's answer is stale and must be read again.
  await new Promise((r) => setTimeout(r, KEY_CACHE_MS * 2));
  const during = `during-${scope.id}`;
  expect((await track('dev-write-key', during)).status).toBe(200);
  await waitFor(() => raw.records.some((r) => r.value.messageId === during), 'the event accepted during the outage', 15_000);

  const unknown = await track('never-issued-key', `unknown-${scope.id}`);
  expect(unknown.status).toBe(503);
  expect(unknown.headers.get('retry-after')).toBe('5');
  expect(((await unknown.json()) as { message: string }).message).toMatch(/database is unavailable/);

  // Still ready (an orchestrator keeps it in service), the database reported as down.
  const ready = await fetch(`${collector.url}/health/ready`);
  expect(ready.status).toBe(200);
  expect(((await ready.json()) as { checks: Record<string, string> }).checks['mongodb']).not.toBe('ok');

  proxy.restore();
  await waitFor(
    async () => (await track('never-issued-key', `after-${scope.id}`)).status === 401,
    'a 401 once the database is back',
    30_000,
    500,
  );
  expect(raw.records.some((r) => r.value.messageId === `unknown-${scope.id}`)).toBe(false);
}, 90_000);
