import { Topics, type RawEvent } from '@cdp/contracts';
import { startService, testScope, TopicReader, waitFor, type RunningService } from '@cdp/testing';

/**
 * CDP_WORKERS=2 on the built collector: two processes share the port, GET /metrics on either
 * answers the sum of both, and SIGTERM on the primary drains both (every accepted event is on
 * the raw topic, the process exits).
 */
const scope = testScope('collworkers');
const PORT = 15_000 + Math.floor(Math.random() * 900);
const auth = `Basic ${Buffer.from('dev-write-key:').toString('base64')}`;
let collector: RunningService;
let raw: TopicReader<RawEvent>;

beforeAll(async () => {
  collector = await startService('collector', PORT, { ...scope.env, CDP_WORKERS: '2' });
  // Ready answers as soon as the first worker listens; the second starts after it.
  await waitFor(() => collector.output().includes('(2 of 2)'), 'the second worker to be ready', 60_000);
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
}, 120_000);
afterAll(async () => {
  await raw?.stop();
  await collector?.stop();
});

/** cdp_records_produced_total as one scrape reports it, over a new connection (so that scrapes reach both workers). */
const produced = async (): Promise<number> => {
  const res = await fetch(`${collector.url}/metrics`, { headers: { connection: 'close' } });
  expect(res.status).toBe(200);
  const value = /^cdp_records_produced_total\{[^}]*\} (\d+)$/m.exec(await res.text())?.[1];
  return Number(value ?? 0);
};

it('serves one port from two processes, with the metrics of both at /metrics, and drains both on SIGTERM', async () => {
  const n = 20;
  const ids = Array.from({ length: n }, (_, i) => `w-${scope.id}-${i}`);
  // A new connection per request: the primary hands connections to the workers in turn.
  const statuses = await Promise.all(
    ids.map(async (messageId) => {
      const res = await fetch(`${collector.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth, connection: 'close' },
        body: JSON.stringify({ userId: 'u-workers', event: 'Counted', messageId }),
      });
      return res.status;
    }),
  );
  expect(statuses).toEqual(ids.map(() => 200));
  // Whichever worker answers the scrape, it counts the events both wrote.
  for (let i = 0; i < 4; i++) expect(await produced()).toBe(n);

  await collector.stop();
  expect(collector.alive()).toBe(false);
  for (const id of ids) await raw.waitForRecord((v) => v.messageId === id, `${id} on the raw topic`);
  expect(collector.output()).toMatch(/SIGTERM: stopping 2 workers/);
  expect(collector.output()).toMatch(/all workers stopped/);
  // No worker died or failed to drain. (kafkajs logs a retried request at error level, e.g. the
  // first InitProducerId on a fresh broker: those are not the collector's errors.)
  expect(collector.output()).not.toMatch(/exited|could not/);
  const ownErrors = collector
    .output()
    .split('\n')
    .filter((line) => line.includes('"level":50') && !line.includes('"context":"kafkajs"'));
  expect(ownErrors).toEqual([]);
}, 60_000);
