import { runWithFakes, type CliRunOptions } from './cli-test-support';
import { parseTraitList } from './segments-requests';
import { renderSizeHistory } from './size-history';

const env = { CDP_API_KEY: 'ak', CDP_SEGMENTER_URL: 'http://seg:1' };
const cli = (argv: string[], opts: CliRunOptions = {}) => runWithFakes(argv, opts, env);
const auth = { authorization: 'Bearer ak' };

const history = {
  items: [
    { day: '2026-11-28', members: 0, entered: 0, exited: 0 },
    { day: '2026-11-29', members: 1250, entered: 1300, exited: 50 },
    { day: '2026-11-30', members: 1249, entered: 2, exited: 3 },
  ],
};

describe('cdp segments size-history', () => {
  it('asks the segmenter for --days days (or its default) with the API key', async () => {
    expect((await cli(['segments', 'size-history', 'seg_1', '--days', '7'])).sent).toEqual([
      { method: 'GET', service: 'segmenter', url: 'http://seg:1/v1/segments/seg_1/size-history?days=7', headers: auth },
    ]);
  });

  it('finds a segment given by its name, and says when none has it', async () => {
    const listed = { status: 200, body: { items: [{ id: 'seg_x', name: 'DE buyers' }] } };
    const byName = await cli(['segments', 'size-history', ' DE buyers'], { answer: listed });
    expect(byName.sent.map((s) => s.url)).toEqual(['http://seg:1/v1/segments', 'http://seg:1/v1/segments/seg_x/size-history']);
    const unknown = await cli(['segments', 'members', 'de buyers'], { answer: listed });
    expect({ code: unknown.code, sent: unknown.sent.length }).toEqual({ code: 1, sent: 1 });
    expect(unknown.err).toContain('no segment is named "de buyers": give its id (seg_...) or its name (see segments list)');
  });

  it('prints a table, oldest day first, or the raw answer with --json', async () => {
    const r = await cli(['segments', 'size-history', 'seg_1'], { answer: { status: 200, body: history } });
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'day         members  entered  exited',
        '2026-11-28        0        0       0',
        '2026-11-29     1250     1300      50',
        '2026-11-30     1249        2       3',
        '',
      ].join('\n'),
    );
    const json = await cli(['--json', 'segments', 'size-history', 'seg_1'], { answer: { status: 200, body: history } });
    expect(JSON.parse(json.out)).toEqual(history);
  });

  it('refuses a bad --days before sending; reports an unknown segment and an unexpected answer', async () => {
    for (const days of ['0', '-1', '2.5', 'x']) {
      const r = await cli(['segments', 'size-history', 's', '--days', days]);
      expect({ days, code: r.code, sent: r.sent.length }).toEqual({ days, code: 2, sent: 0 });
    }
    const missing = await cli(['segments', 'size-history', 'seg_nope'], {
      answer: { status: 404, body: { statusCode: 404, message: 'segment seg_nope not found' } },
    });
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('GET /v1/segments/seg_nope/size-history (segmenter): 404 Not Found: segment seg_nope not found');
    expect((await cli(['segments', 'size-history', 'seg_s'], { answer: { status: 200, body: { items: [{ day: 1 }] } } })).code).toBe(1);
    expect(renderSizeHistory({ items: [] })).toBe('(no days)\n');
  });
});

describe('cdp segments create/update with --output-topic', () => {
  it('sends outputTopic and outputTraits only when given', async () => {
    const r = await cli([
      'segments',
      'create',
      'DE',
      '-d',
      "trait('country') = 'DE'",
      '--output-topic',
      'crm.de-users',
      '--output-traits',
      'email, plan,email',
    ]);
    expect(r.sent[0]).toEqual({
      method: 'POST',
      service: 'segmenter',
      url: 'http://seg:1/v1/segments',
      headers: auth,
      body: { name: 'DE', definition: "trait('country') = 'DE'", outputTraits: ['email', 'plan'], outputTopic: 'crm.de-users' },
    });
    expect((await cli(['segments', 'create', 'DE', '-d', 'x'])).sent[0]?.body).toEqual({ name: 'DE', definition: 'x' });
  });

  it('updates with PUT and the same body, from text or a file', async () => {
    const text = await cli(['segments', 'update', 'seg_1', 'DE buyers', '-d', "consent('marketing')", '--output-topic', 'crm']);
    expect(text.sent[0]).toEqual({
      method: 'PUT',
      service: 'segmenter',
      url: 'http://seg:1/v1/segments/seg_1',
      headers: auth,
      body: { name: 'DE buyers', definition: "consent('marketing')", outputTopic: 'crm' },
    });
    const file = await cli(['segments', 'update', 'seg_1', 'DE', '-f', 'd.json'], {
      files: { 'd.json': '{"op":"consent","category":"ads"}' },
    });
    expect(file.sent[0]?.body).toEqual({ name: 'DE', definition: { op: 'consent', category: 'ads' } });
  });

  it('needs exactly one definition and both id and name for update, sending nothing otherwise', async () => {
    for (const argv of [
      ['segments', 'update', 'seg_1', 'DE'],
      ['segments', 'update', 'seg_1', 'DE', '-d', 'x', '-f', 'd.json'],
      ['segments', 'update', 'seg_1', '-d', 'x'],
      ['segments', 'create', 'DE', '--output-topic'],
    ]) {
      const r = await cli(argv, { files: { 'd.json': '{}' } });
      expect({ argv, code: r.code, sent: r.sent.length }).toEqual({ argv, code: 2, sent: 0 });
    }
  });

  it('splits trait lists', () => {
    expect(parseTraitList(' a,b  c,,a ')).toEqual(['a', 'b', 'c']);
  });
});

describe('cdp segments schema', () => {
  it('gets the schema and prints it as JSON', async () => {
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', oneOf: [{ type: 'object' }] };
    const r = await cli(['segments', 'schema'], { answer: { status: 200, body: schema } });
    expect(r.sent[0]).toEqual({ method: 'GET', service: 'segmenter', url: 'http://seg:1/v1/segments/schema', headers: auth });
    expect(JSON.parse(r.out)).toEqual(schema);
  });
});

describe('segments --help', () => {
  it('lists and documents every subcommand', async () => {
    const subs = ['list', 'get', 'create', 'update', 'members', 'size-history', 'schema'];
    const top = await cli(['segments', '--help']);
    expect(top.code).toBe(0);
    for (const sub of subs) expect(top.out).toContain(sub);
    for (const sub of subs) {
      const r = await cli(['segments', sub, '--help']);
      expect({ sub, code: r.code }).toEqual({ sub, code: 0 });
      expect(r.out).toContain(`Usage: cdp segments ${sub}`);
    }
    expect((await cli(['segments', 'size-history', '--help'])).out).toContain('--days <n>');
    for (const sub of ['create', 'update']) expect((await cli(['segments', sub, '--help'])).out).toContain('--output-topic <name>');
  });
});

describe('cdp segments delete and preview', () => {
  it('deletes with a long wait for the answer (every member exits first)', async () => {
    expect((await cli(['segments', 'delete', 'seg_a-b'], { answer: { status: 204, body: null } })).sent).toEqual([
      { method: 'DELETE', service: 'segmenter', url: 'http://seg:1/v1/segments/seg_a-b', headers: auth, timeoutMs: 300_000 },
    ]);
  });

  it('says what it deleted: done, or with --json an object (the service answers 204 without a body)', async () => {
    const answer = { status: 204, body: null };
    expect((await cli(['segments', 'delete', 'seg_1'], { answer })).out).toBe('done\n');
    const json = await cli(['--json', 'segments', 'delete', 'seg_1'], { answer });
    expect(JSON.parse(json.out)).toEqual({ id: 'seg_1', deleted: true });
  });

  it('previews the text form or an AST file, and wants exactly one of them', async () => {
    expect((await cli(['segments', 'preview', '-d', "trait('plan') = 'pro'"])).sent).toEqual([
      {
        method: 'POST',
        service: 'segmenter',
        url: 'http://seg:1/v1/segments/preview',
        headers: auth,
        body: { definition: "trait('plan') = 'pro'" },
      },
    ]);
    const ast = { type: 'trait', name: 'plan', op: 'exists' };
    const fromFile = await cli(['segments', 'preview', '-f', 'draft.json'], { files: { 'draft.json': JSON.stringify(ast) } });
    expect(fromFile.sent[0]?.body).toEqual({ definition: ast });
    const neither = await cli(['segments', 'preview']);
    expect({ code: neither.code, sent: neither.sent.length }).toEqual({ code: 2, sent: 0 });
    expect(neither.err).toContain('give exactly one of --definition and --file');
  });
});
