import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics, type RawEvent } from '@cdp/contracts';
import { startService, testScope, TopicReader, waitFor, type RunningService } from '@cdp/testing';
import { runImport } from './import';

/**
 * The CLI's import streamer against the built collector on the real stack: a generated CRM export
 * with bad rows, sent in many small parts; rejected rows named by their line in the file, and
 * re-running the file has no second effect.
 */
const scope = testScope('cliimport');
const PORT = 22_000 + Math.floor(Math.random() * 900);
let collector: RunningService;
let raw: TopicReader<RawEvent>;
let dir: string;

beforeAll(async () => {
  collector = await startService('collector', PORT, scope.env);
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
  dir = await mkdtemp(join(tmpdir(), 'cdp-import-'));
}, 90_000);
afterAll(async () => {
  await raw?.stop();
  await collector?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ROWS = 3_000;
const quiet = { env: {}, out: () => undefined, err: () => undefined };
const options = (format: 'csv' | 'ndjson') => ({
  collectorUrl: collector.url,
  credentials: { writeKey: 'dev-write-key' },
  format,
  chunkBytes: 16 * 1024,
  concurrency: 2,
  retries: 2,
});
const fromCli = () =>
  raw.records.filter((r) => r.value.messageId.startsWith('import-') && JSON.parse(r.value.payload).userId?.startsWith(`cli-${scope.id}`));

it('imports a CSV file in parts: rejected rows by file line (multi-line fields included), no second effect when re-run', async () => {
  // Every 250th row has no id; every 100th has a note over two lines (which shifts the lines after it).
  const lines = ['customer_id,email,note'];
  const expectedErrors: number[] = [];
  let line = 1;
  for (let i = 1; i <= ROWS; i++) {
    line++;
    if (i % 250 === 0) {
      lines.push(`,,nobody ${i}`);
      expectedErrors.push(line);
    } else if (i % 100 === 0) {
      lines.push(`cli-${scope.id}-${i},c${i}@example.com,"first\nsecond"`);
      line++;
    } else lines.push(`cli-${scope.id}-${i},c${i}@example.com,plain`);
  }
  const path = join(dir, 'crm.csv');
  await writeFile(path, `${lines.join('\n')}\n`);

  const summary = await runImport(path, options('csv'), quiet);
  const good = ROWS - ROWS / 250;
  expect(summary).toMatchObject({ rows: ROWS, imported: good, rejected: ROWS / 250 });
  expect(summary.errors).toEqual(expectedErrors.map((l) => ({ line: l, reason: 'no userId, anonymousId or email' })));
  await waitFor(() => fromCli().length >= good, 'every imported row on the raw topic', 60_000);
  const multi = fromCli().find((r) => JSON.parse(r.value.payload).userId === `cli-${scope.id}-100`);
  expect(JSON.parse(multi?.value.payload ?? '{}').traits).toEqual({ email: 'c100@example.com', note: 'first\nsecond' });

  const again = await runImport(path, options('csv'), quiet);
  expect(again.imported).toBe(good);
  await waitFor(() => fromCli().length >= 2 * good, 'the re-run on the raw topic', 60_000);
  expect(new Set(fromCli().map((r) => r.value.messageId)).size).toBe(good);
});

it('imports an NDJSON file in parts with the same answers', async () => {
  const lines = Array.from({ length: 500 }, (_, i) =>
    i === 99 ? '{"customer_id": ' : JSON.stringify({ customer_id: `cli-${scope.id}-n${i}`, seats: i }),
  );
  const path = join(dir, 'people.ndjson');
  await writeFile(path, `${lines.join('\n')}\n`);
  const summary = await runImport(path, { ...options('ndjson'), chunkBytes: 2_000 }, quiet);
  expect(summary).toMatchObject({
    rows: 500,
    imported: 499,
    rejected: 1,
    errors: [{ line: 100, reason: expect.stringMatching(/^not valid JSON/) }],
  });
  const one = await raw.waitForRecord((v) => JSON.parse(v.payload).userId === `cli-${scope.id}-n7`, 'an NDJSON row');
  expect(JSON.parse(one.value.payload).traits).toEqual({ seats: 7 });
});
