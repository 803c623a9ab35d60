import { connect } from 'node:net';
import { Topics, type RawEvent } from '@cdp/contracts';
import { startService, testScope, TopicReader, type RunningService } from '@cdp/testing';

/**
 * Per-key rate limiting and request timeouts on the built collector, with a small budget
 * (5 requests per minute per key) so that the limit is reached in a few requests.
 */
const scope = testScope('colllimits');
const PORT = 18_000 + Math.floor(Math.random() * 900);
const LIMIT = 5;
let collector: RunningService;
let raw: TopicReader<RawEvent>;

beforeAll(async () => {
  collector = await startService('collector', PORT, {
    ...scope.env,
    CDP_RATE_LIMIT_REQUESTS: String(LIMIT),
    CDP_RATE_LIMIT_WINDOW_MS: '60000',
    CDP_REQUEST_TIMEOUT_MS: '1000',
  });
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
}, 90_000);
afterAll(async () => {
  await raw?.stop();
  await collector?.stop();
});

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const track = (headers: Record<string, string>, body: Record<string, unknown>) =>
  fetch(`${collector.url}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

it('answers 429 with Retry-After once a key spent its budget, counting the key however it is sent, and nothing is produced', async () => {
  const event = (n: number) => ({ userId: `u-${scope.id}`, event: 'Limited', messageId: `lim-${scope.id}-${n}` });
  // The demo write key: three times as Basic auth, twice in the body (analytics.js style).
  const statuses: number[] = [];
  for (let n = 0; n < LIMIT; n++) {
    const res =
      n < 3
        ? await track({ authorization: basic('dev-write-key') }, event(n))
        : await track({}, { ...event(n), writeKey: 'dev-write-key' });
    statuses.push(res.status);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 200]);

  const over = await track({}, { ...event(99), writeKey: 'dev-write-key' });
  expect(over.status).toBe(429);
  expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  expect(((await over.json()) as { message: string }).message).toMatch(
    /rate limit exceeded: more than 5 requests in 60 s for this key; retry after \d+ s/,
  );
  expect((await track({ authorization: basic('dev-write-key') }, event(100))).status).toBe(429);

  // Another key has its own budget (an unknown one gets its 401, not a 429), and probes are never limited.
  expect((await track({ authorization: basic(`wk_other_${scope.id}`) }, event(200))).status).toBe(401);
  const health = await Promise.all(Array.from({ length: LIMIT + 2 }, () => fetch(`${collector.url}/health/live`).then((r) => r.status)));
  expect(health.every((s) => s === 200)).toBe(true);

  await raw.waitForRecord((v) => v.messageId === `lim-${scope.id}-4`, 'the last accepted event');
  await new Promise((r) => setTimeout(r, 1_000));
  const ids = raw.records.map((r) => r.value.messageId);
  expect(ids).not.toContain(`lim-${scope.id}-99`);
  expect(ids).not.toContain(`lim-${scope.id}-100`);
});

it('answers 408 and closes the connection when a body does not arrive within the request timeout', async () => {
  const started = Date.now();
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(PORT, '127.0.0.1', () => {
      socket.write(
        `POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: ${basic(`wk_slow_${scope.id}`)}\r\nContent-Length: 100\r\n\r\n{"userId":`,
      );
    });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  expect(answer).toMatch(/^HTTP\/1.1 408/);
  expect(answer).toContain('request body not received within 1 s');
  expect(Date.now() - started).toBeLessThan(5_000);
});
