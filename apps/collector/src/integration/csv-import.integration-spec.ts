import { brotliCompressSync, gzipSync } from 'node:zlib';
import { Topics, type RawEvent } from '@cdp/contracts';
import { startService, testScope, TopicReader, waitFor, type RunningService } from '@cdp/testing';

/** POST /v1/import/csv on the built collector: a generated CRM export with some bad rows. */
const scope = testScope('collcsv');
const PORT = 17_000 + Math.floor(Math.random() * 900);
const auth = `Basic ${Buffer.from('dev-write-key:').toString('base64')}`;
let collector: RunningService;
let raw: TopicReader<RawEvent>;

beforeAll(async () => {
  collector = await startService('collector', PORT, { ...scope.env, CDP_IMPORT_MAX_BYTES: String(2 * 1024 * 1024) });
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

const importCsv = (body: string | Buffer, query = '', headers: Record<string, string> = {}) =>
  fetch(`${collector.url}/v1/import/csv${query}`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', authorization: auth, ...headers },
    body,
  });

const ROWS = 1_200;
/** Every 100th row has no id and no email; row 250 has a field too many. */
function crmExport(tag: string): string {
  const lines = ['Customer ID,Email,First Name,Plan'];
  for (let i = 1; i <= ROWS; i++) {
    if (i % 100 === 0) lines.push(`,,Nobody ${i},free`);
    else if (i === 250) lines.push(`c-${tag}-${i},x${i}@example.com,Extra,pro,surplus`);
    else if (i % 7 === 0) lines.push(`,only.email.${tag}.${i}@example.com,"Doe, Jane",pro`);
    else lines.push(`c-${tag}-${i},p${i}.${tag}@example.com,Name ${i},pro`);
  }
  return `${lines.join('\n')}\n`;
}

const imported = () => raw.records.filter((r) => r.value.messageId.startsWith('import-'));

it('imports each good row as an identify, reports the bad ones by line, and has no second effect when re-sent', async () => {
  const csv = crmExport(scope.id);
  const res = await importCsv(gzipSync(csv), '', { 'content-encoding': 'gzip' });
  expect(res.status).toBe(200);
  const report = (await res.json()) as Report;
  const badLines = [...Array.from({ length: 12 }, (_, k) => ({ line: (k + 1) * 100 + 1, reason: 'no userId, anonymousId or email' }))];
  badLines.splice(2, 0, { line: 251, reason: 'has 5 fields, the header has 4' });
  expect(report).toEqual({ success: true, rows: ROWS, imported: ROWS - 13, rejected: 13, errors: badLines });

  await waitFor(() => imported().length >= ROWS - 13, 'every imported row on the raw topic', 60_000);
  const byUser = new Map(imported().map((r) => [JSON.parse(r.value.payload).userId as string | undefined, r.value]));
  const one = byUser.get(`c-${scope.id}-1`);
  expect(one).toMatchObject({ workspaceId: 'demo', sourceId: 'demo-source', type: 'identify' });
  expect(JSON.parse(one?.payload ?? '{}')).toMatchObject({
    type: 'identify',
    traits: { email: `p1.${scope.id}@example.com`, firstName: 'Name 1', Plan: 'pro' },
    context: { library: { name: 'cdp-csv-import', version: '1' } },
  });
  const emailOnly = imported().find((r) => JSON.parse(r.value.payload).traits.email === `only.email.${scope.id}.7@example.com`);
  expect(JSON.parse(emailOnly?.value.payload ?? '{}')).toMatchObject({
    anonymousId: expect.stringMatching(/^import-/),
    traits: { firstName: 'Doe, Jane' },
  });

  // The same file again (brotli this time): the same messageIds, which the pipeline dedupes.
  const again = await importCsv(brotliCompressSync(csv), '', { 'content-encoding': 'br' });
  expect(((await again.json()) as Report).imported).toBe(ROWS - 13);
  await waitFor(() => imported().length >= 2 * (ROWS - 13), 'the second import on the raw topic', 60_000);
  const ids = imported().map((r) => r.value.messageId);
  expect(new Set(ids).size).toBe(ROWS - 13);
});

it('leaves out the line of a quote never closed, and imports every row after it', async () => {
  const rows = Array.from({ length: 400 }, (_, i) =>
    i === 10 ? `q-${scope.id}-11,"q11@example.com,DE` : `q-${scope.id}-${i + 1},q${i + 1}.${scope.id}@example.com,DE`,
  );
  const res = await importCsv(`Customer ID,Email,Country\r\n${rows.join('\r\n')}\r\n`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({
    success: true,
    rows: 400,
    imported: 399,
    rejected: 1,
    errors: [{ line: 12, reason: expect.stringMatching(/^a quote opened on this line is not closed within 1 MB or by the end/) }],
  });
  await waitFor(() => imported().some((r) => JSON.parse(r.value.payload).userId === `q-${scope.id}-400`), 'the last row', 60_000);

  // Text after a closing quote (a hand-edited file): that row alone is left out.
  const edited = await importCsv(`Customer ID,Name\ne-${scope.id}-1,"Smith" Jr\ne-${scope.id}-2,"Jones"\n`);
  expect(await edited.json()).toMatchObject({
    rows: 2,
    imported: 1,
    errors: [{ line: 2, reason: expect.stringMatching(/^text follows a closing quote/) }],
  });

  // Two exports appended to one another: the second header is no person.
  const twice = await importCsv(`Customer ID,Email\nh-${scope.id}-1,h1@example.com\ncustomer id , EMAIL\nh-${scope.id}-2,h2@example.com\n`);
  expect(await twice.json()).toMatchObject({ rows: 3, imported: 2, rejected: 1, errors: [{ line: 3, reason: 'repeats the header row' }] });
});

it('takes an explicit column map and refuses what cannot be imported with a 4xx that says why', async () => {
  const res = await importCsv(
    `Kunden-Nr;x\nk-${scope.id};1\n`.replace(/;/g, ','),
    `?map=${encodeURIComponent('Kunden-Nr:userId,x:traits.score')}`,
  );
  expect(res.status).toBe(200);
  expect(((await res.json()) as Report).imported).toBe(1);
  const record = await raw.waitForRecord((v) => JSON.parse(v.payload).userId === `k-${scope.id}`, 'the mapped row');
  expect(JSON.parse(record.value.payload).traits).toEqual({ score: '1' });

  const answers = await Promise.all([
    importCsv('plan,city\npro,Berlin\n'),
    importCsv('id,email\n1,a@b.c\n', '?map=nope:userId'),
    importCsv(''),
    importCsv('id\n1\n', '', { authorization: `Basic ${Buffer.from('wk_unknown:').toString('base64')}` }),
    importCsv(`id,note\n${'1,' + 'x'.repeat(1000) + '\n'}`.repeat(3_000)),
  ]);
  const bodies = await Promise.all(answers.map(async (r) => [r.status, ((await r.json()) as { message: string }).message] as const));
  expect(bodies[0]).toEqual([400, 'no column maps to userId, anonymousId or email; name one with map=<column>:userId']);
  expect(bodies[1]).toEqual([400, 'map names column "nope", which is not in the header row']);
  expect(bodies[2]).toEqual([400, 'CSV body is empty; the first row must name the columns']);
  expect(bodies[3]).toEqual([401, 'write key is not valid']);
  expect(bodies[4][0]).toBe(400);
  expect(bodies[4][1]).toContain('over the 2 MB import limit');

  // No Content-Length to go by (compressed): the limit applies to the decoded stream as it arrives.
  const bomb = await importCsv(gzipSync(`user_id,note\n${`1,${'x'.repeat(1000)}\n`.repeat(3_000)}`), '', { 'content-encoding': 'gzip' });
  expect(bomb.status).toBe(400);
  expect(((await bomb.json()) as { message: string }).message).toMatch(
    /over the 2 MB import limit.*rows were imported \(re-sending is safe\)/,
  );
});

it('imports into a source named by an admin API key, and refuses keys that may not', async () => {
  const admin = { authorization: 'Bearer dev-api-key' };
  const res = await importCsv(`user_id,plan\nsrc-${scope.id},team\n`, '?source=demo-source', admin);
  expect(res.status).toBe(200);
  expect(((await res.json()) as Report).imported).toBe(1);
  const record = await raw.waitForRecord((v) => JSON.parse(v.payload).userId === `src-${scope.id}`, 'the row imported with an API key');
  expect(record.value).toMatchObject({ workspaceId: 'demo', sourceId: 'demo-source' });

  const created = await fetch(`${collector.url}/v1/admin/workspaces/demo/keys`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'reader', scopes: ['read:profiles'] }),
  });
  const { apiKey: reader } = (await created.json()) as { apiKey: string };
  const csv = 'user_id\n1\n';
  const answers = await Promise.all([
    importCsv(csv, '?source=no-such-source', admin),
    importCsv(csv, '', admin),
    importCsv(csv, '?source=demo-source', { authorization: `Bearer ${reader}` }),
    importCsv(csv, '?source=another-source'),
  ]);
  const bodies = await Promise.all(answers.map(async (r) => [r.status, ((await r.json()) as { message: string }).message] as const));
  expect(bodies).toEqual([
    [404, 'no source "no-such-source" in workspace demo'],
    [400, 'name the source to import into: ?source=<source id or name>'],
    [403, 'importing with an API key needs the admin scope'],
    [400, 'the write key belongs to another source'],
  ]);
});

it('types trait columns as asked (types=<column>:<type>), and rejects a row whose cell is not of its type', async () => {
  const csv = `user_id,LTV,Opt In,Zip\ntyped-${scope.id}-1,120.5,yes,01234\ntyped-${scope.id}-2,lots,no,99999\n`;
  const res = await importCsv(csv, `?types=${encodeURIComponent('LTV:number,Opt In:boolean')}`);
  expect(await res.json()).toMatchObject({ rows: 2, imported: 1, errors: [{ line: 3, reason: 'traits.LTV: "lots" is not a number' }] });
  const row = await raw.waitForRecord((v) => v.payload.includes(`typed-${scope.id}-1`), 'the typed row');
  expect(JSON.parse(row.value.payload).traits).toEqual({ LTV: 120.5, 'Opt In': true, Zip: '01234' });
  expect((await importCsv(csv, '?types=LTV:float')).status).toBe(400);
});

it('with event=<name>, makes each row also a track carrying its properties.<name> columns; a re-send adds nothing', async () => {
  const user = `orders-${scope.id}`;
  const csv = `user_id,Email,Order ID,Total,Placed\n${user},o@example.com,o-1,99.5,2026-01-02T00:00:00Z\n${user},o@example.com,o-2,lots,2026-01-03T00:00:00Z\n`;
  const query = `?event=${encodeURIComponent('Order Completed')}&map=${encodeURIComponent('Order ID:properties.orderId,Total:properties.total,Placed:timestamp')}&types=Total:number`;
  const res = await importCsv(csv, query);
  expect(await res.json()).toEqual({
    success: true,
    rows: 2,
    imported: 1,
    rejected: 1,
    errors: [{ line: 3, reason: 'properties.total: "lots" is not a number' }],
  });
  const ofUser = () => raw.records.map((r) => JSON.parse(r.value.payload) as Record<string, unknown>).filter((m) => m['userId'] === user);
  await waitFor(() => ofUser().length >= 2 || undefined, 'the identify and the track of the row');
  const [identify, track] = [ofUser().find((m) => m['type'] === 'identify'), ofUser().find((m) => m['type'] === 'track')];
  expect(identify).toMatchObject({ traits: { email: 'o@example.com' }, timestamp: '2026-01-02T00:00:00Z' });
  expect(track).toMatchObject({
    event: 'Order Completed',
    properties: { orderId: 'o-1', total: 99.5 },
    timestamp: '2026-01-02T00:00:00Z',
  });
  expect(track?.['messageId']).not.toBe(identify?.['messageId']);
  // The same file again: the same two messageIds (the pipeline dedupes them).
  expect((await importCsv(csv, query)).status).toBe(200);
  await waitFor(() => ofUser().length >= 4 || undefined, 'the re-sent row');
  expect(new Set(ofUser().map((m) => m['messageId'])).size).toBe(2);

  const refused = await importCsv(csv, `?map=${encodeURIComponent('Total:properties.total')}`);
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { message: string }).message).toBe(
    'map sends column "Total" to properties.total, which needs event=<name> (each row then also a track)',
  );
  expect((await importCsv(csv, '?event=')).status).toBe(400);
});

it('imports a file again with corrected types as new identifies (the same file as it was adds nothing)', async () => {
  const user = `retype-${scope.id}`;
  const csv = `user_id,email,ltv\n${user},rt@example.com,250\n`;
  const identifies = () =>
    raw.records.map((r) => JSON.parse(r.value.payload) as Record<string, unknown>).filter((m) => m['userId'] === user);
  expect((await importCsv(csv)).status).toBe(200);
  expect((await importCsv(csv)).status).toBe(200);
  expect((await importCsv(csv, '?types=ltv:number')).status).toBe(200);
  await waitFor(() => identifies().some((m) => (m['traits'] as { ltv?: unknown }).ltv === 250) || undefined, 'the typed identify');
  await waitFor(() => identifies().length >= 3 || undefined, 'all three imports on the raw topic');
  const ids = identifies().map((m) => [m['messageId'], (m['traits'] as { ltv?: unknown }).ltv]);
  expect(new Set(ids.map(([id]) => id)).size).toBe(2);
  expect(ids.filter(([, ltv]) => ltv === '250')).toHaveLength(2);
});
