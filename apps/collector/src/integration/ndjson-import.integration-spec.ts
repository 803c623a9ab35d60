import { gzipSync } from 'node:zlib';
import { Topics, type RawEvent } from '@cdp/contracts';
import { startService, testScope, TopicReader, waitFor, type RunningService } from '@cdp/testing';

/** POST /v1/import/ndjson on the built collector: a generated export with bad lines, sent whole and in parts. */
const scope = testScope('collndjson');
const PORT = 21_000 + Math.floor(Math.random() * 900);
const auth = `Basic ${Buffer.from('dev-write-key:').toString('base64')}`;
let collector: RunningService;
let raw: TopicReader<RawEvent>;

beforeAll(async () => {
  collector = await startService('collector', PORT, { ...scope.env, CDP_IMPORT_MAX_BYTES: String(1024 * 1024) });
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
}, 90_000);
afterAll(async () => {
  await raw?.stop();
  await collector?.stop();
});

interface Report {
  rows: number;
  imported: number;
  rejected: number;
  errors: { line: number; reason: string }[];
}
const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${collector.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: auth, ...headers },
    body,
  });

const ROWS = 600;
/** Line 50 is not JSON, every 100th has no id, line 333 is an array; a blank line after 400. */
function exportLines(tag: string): string[] {
  const lines: string[] = [];
  for (let i = 1; i <= ROWS; i++) {
    if (i === 50) lines.push('{"user_id": "broken",');
    else if (i === 333) lines.push('[1,2]');
    else if (i % 100 === 0) lines.push(JSON.stringify({ plan: 'free', n: i }));
    else lines.push(JSON.stringify({ user_id: `n-${tag}-${i}`, email: `n${i}.${tag}@example.com`, seats: i, vip: i % 2 === 0 }));
    if (i === 400) lines.push('');
  }
  return lines;
}
const imported = () => raw.records.filter((r) => JSON.parse(r.value.payload).context?.library?.name === 'cdp-ndjson-import');

it('imports each good line as an identify with typed traits, reports bad lines by number, and re-sending in parts has no second effect', async () => {
  const lines = exportLines(scope.id);
  const res = await post('/v1/import/ndjson', gzipSync(`${lines.join('\n')}\n`), { 'content-encoding': 'gzip' });
  expect(res.status).toBe(200);
  const report = (await res.json()) as Report;
  // Line numbers count the blank line after 400: rows 401.. sit one line lower.
  const noId = [100, 200, 300, 400, 501, 601].map((line) => ({ line, reason: 'no userId, anonymousId or email' }));
  expect(report).toMatchObject({ success: true, rows: ROWS, imported: ROWS - 8, rejected: 8 });
  expect(report.errors).toEqual([
    { line: 50, reason: expect.stringMatching(/^not valid JSON: /) },
    ...noId.slice(0, 3),
    { line: 333, reason: 'line is not a JSON object' },
    ...noId.slice(3),
  ]);
  await waitFor(() => imported().length >= ROWS - 8, 'every imported line on the raw topic', 60_000);
  const one = imported().find((r) => JSON.parse(r.value.payload).userId === `n-${scope.id}-2`);
  expect(one?.value).toMatchObject({
    workspaceId: 'demo',
    sourceId: 'demo-source',
    type: 'identify',
    messageId: expect.stringMatching(/^import-/),
  });
  expect(JSON.parse(one?.value.payload ?? '{}').traits).toEqual({ email: `n2.${scope.id}@example.com`, seats: 2, vip: true });

  // The same file in two parts, as the CLI sends it: lineOffset keeps the reported lines those of the file.
  const first = await post('/v1/import/ndjson', lines.slice(0, 300).join('\n'));
  const second = await post('/v1/import/ndjson?lineOffset=300', lines.slice(300).join('\n'));
  const [a, b] = [(await first.json()) as Report, (await second.json()) as Report];
  expect(a.imported + b.imported).toBe(ROWS - 8);
  expect([...a.errors, ...b.errors]).toEqual(report.errors);
  await waitFor(() => imported().length >= 2 * (ROWS - 8), 'the second import on the raw topic', 60_000);
  expect(new Set(imported().map((r) => r.value.messageId)).size).toBe(ROWS - 8);
});

it('applies a map, and refuses what cannot be imported with a 4xx that says why', async () => {
  const res = await post(
    `/v1/import/ndjson?map=${encodeURIComponent('Kunde:userId,constructor:traits.built')}`,
    `{"Kunde":"k-${scope.id}","constructor":"x"}\n`,
  );
  expect(((await res.json()) as Report).imported).toBe(1);
  const record = await raw.waitForRecord((v) => JSON.parse(v.payload).userId === `k-${scope.id}`, 'the mapped line');
  expect(JSON.parse(record.value.payload).traits).toEqual({ built: 'x' });

  const answers = await Promise.all([
    post('/v1/import/ndjson?map=a:nowhere', '{"a":1}'),
    post('/v1/import/ndjson?lineOffset=-1', '{"a":1}'),
    post('/v1/import/ndjson', '{"a":1}', { authorization: `Basic ${Buffer.from('wk_unknown:').toString('base64')}` }),
    post('/v1/import/ndjson', gzipSync(`${JSON.stringify({ user_id: 'bomb', note: 'x'.repeat(1000) })}\n`.repeat(3_000)), {
      'content-encoding': 'gzip',
    }),
  ]);
  const bodies = await Promise.all(answers.map(async (r) => [r.status, ((await r.json()) as { message: string }).message] as const));
  expect(bodies[0]).toEqual([
    400,
    'map for column "a": "nowhere" is not one of userId, anonymousId, timestamp, email, traits.<name>, properties.<name>, -',
  ]);
  expect(bodies[1]).toEqual([400, 'lineOffset must be a whole number >= 0']);
  expect(bodies[2]).toEqual([401, 'write key is not valid']);
  expect(bodies[3][0]).toBe(400);
  expect(bodies[3][1]).toMatch(
    /^NDJSON body is over the 1 MB import limit; use the CLI for larger files; \d+ rows were imported \(re-sending is safe\)$/,
  );
});
