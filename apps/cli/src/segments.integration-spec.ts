import { startService, testScope, type RunningService } from '@cdp/testing';
import { runCdp } from './cli-test-support';

/** The real `cdp segments` (output topic, update, size history, schema, preview, delete) against the built segmenter on the real stack. */
const scope = testScope('cliseg');
const PORT = 15_000 + Math.floor(Math.random() * 900) * 10 + 5;

let segmenter: RunningService;

beforeAll(async () => {
  segmenter = await startService('segmenter', PORT, scope.env);
}, 120_000);

afterAll(async () => {
  await segmenter?.stop();
});

const cdp = (...args: string[]) => runCdp(args, { CDP_API_KEY: 'dev-api-key', CDP_SEGMENTER_URL: segmenter.url });
const today = () => new Date().toISOString().slice(0, 10);

it('creates a segment with an output topic, updates it, prints its size history and the definition schema', async () => {
  const created = await cdp('--json', 'segments', 'create', 'DE', '-d', "trait('country') = 'DE'", '--output-topic', `crm.de-${scope.id}`);
  expect({ code: created.code, stderr: created.stderr }).toMatchObject({ code: 0 });
  const segment = JSON.parse(created.stdout) as { id: string; outputTopic: string | null; version: number };
  expect(segment.outputTopic).toBe(`crm.de-${scope.id}`);

  const updated = await cdp('--json', 'segments', 'update', segment.id, 'DE marketing', '-d', "consent('marketing')");
  expect(updated.code).toBe(0);
  // PUT replaces the segment: no --output-topic clears it.
  expect(JSON.parse(updated.stdout)).toMatchObject({
    id: segment.id,
    name: 'DE marketing',
    outputTopic: null,
    version: segment.version + 1,
  });

  // By name too (names are unique per workspace).
  const byName = await cdp('--json', 'segments', 'get', 'DE marketing');
  expect({ code: byName.code, id: (JSON.parse(byName.stdout || '{}') as { id?: string }).id }).toEqual({ code: 0, id: segment.id });

  // Created today: the one day since.
  const table = await cdp('segments', 'size-history', segment.id, '--days', '3');
  expect(table.code).toBe(0);
  const lines = table.stdout.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^day\s+members\s+entered\s+exited$/);
  expect(lines[1]).toMatch(new RegExp(`^${today()}\\s+0\\s+0\\s+0$`));
  const json = await cdp('--json', 'segments', 'size-history', segment.id);
  expect((JSON.parse(json.stdout) as { items: unknown[] }).items).toHaveLength(1);

  const missing = await cdp('segments', 'size-history', 'seg_missing');
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('404 Not Found');

  const schema = await cdp('segments', 'schema');
  expect(schema.code).toBe(0);
  expect(JSON.parse(schema.stdout)).toMatchObject({ $schema: expect.stringContaining('json-schema.org') });

  const refused = await cdp('segments', 'create', 'X', '-d', "trait('a') = 1", '--output-topic', 'bad topic!');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('400 Bad Request: outputTopic may only contain');

  const preview = await cdp('--json', 'segments', 'preview', '-d', "trait('country') = 'DE'");
  expect({ code: preview.code, stderr: preview.stderr }).toMatchObject({ code: 0 });
  expect(JSON.parse(preview.stdout)).toMatchObject({ text: "trait('country') = 'DE'", traitsRead: ['country'], count: 0, sample: [] });
  const badDraft = await cdp('segments', 'preview', '-d', "trait('country') =");
  expect(badDraft.code).toBe(1);
  expect(badDraft.stderr).toContain('400 Bad Request');

  // The segmenter answers 204 without a body: --json says what was deleted.
  const deleted = await cdp('--json', 'segments', 'delete', segment.id);
  expect({ code: deleted.code, stderr: deleted.stderr }).toMatchObject({ code: 0 });
  expect(JSON.parse(deleted.stdout)).toEqual({ id: segment.id, deleted: true });
  expect((await cdp('segments', 'get', segment.id)).stderr).toContain('404 Not Found');
}, 240_000);
