import { runWithFakes, type CliRunOptions } from './cli-test-support';
import { render } from './render';
import { parseScopes, resolveConfig } from './requests';

/** Runs the CLI with a fake transport: the requests it would send, what it printed, its exit code. */
const cli = (argv: string[], opts: CliRunOptions = {}) => runWithFakes(argv, opts);

describe('cdp request building', () => {
  it('creates a workspace with the operator token from the environment, on the default collector', async () => {
    const r = await cli(['workspaces', 'create', 'Acme'], { env: { CDP_ADMIN_TOKEN: 'op-secret' } });
    expect(r.code).toBe(0);
    expect(r.sent).toEqual([
      {
        method: 'POST',
        service: 'collector',
        url: 'http://localhost:3001/v1/admin/workspaces',
        headers: { authorization: 'Bearer op-secret' },
        body: { name: 'Acme' },
      },
    ]);
  });

  it('lets flags override the environment and encodes path segments', async () => {
    const r = await cli(['--collector-url', 'http://c:9/', '-w', 'ws/1', '--api-key', 'flag-key', 'keys', 'revoke', 'k 1'], {
      env: { CDP_API_KEY: 'env-key', CDP_WORKSPACE_ID: 'other' },
    });
    expect(r.sent[0]).toMatchObject({
      method: 'DELETE',
      url: 'http://c:9/v1/admin/workspaces/ws%2F1/keys/k%201',
      headers: { authorization: 'Bearer flag-key' },
    });
  });

  it('prefers the operator token over an API key on workspace admin routes', async () => {
    const r = await cli(['keys', 'rotate', 'src_1'], { env: { CDP_ADMIN_TOKEN: 'op', CDP_API_KEY: 'ak', CDP_WORKSPACE_ID: 'ws_1' } });
    expect(r.sent[0]).toMatchObject({
      method: 'POST',
      url: 'http://localhost:3001/v1/admin/workspaces/ws_1/sources/src_1/rotate-key',
      headers: { authorization: 'Bearer op' },
    });
  });

  it('rotates with a grace period for the old keys, sent in seconds; refuses one over 7 days', async () => {
    const env = { CDP_ADMIN_TOKEN: 'op', CDP_WORKSPACE_ID: 'ws_1' };
    expect((await cli(['keys', 'rotate', 'src_1', '--grace', '24h'], { env })).sent[0]).toMatchObject({ body: { graceSeconds: 86_400 } });
    expect((await cli(['keys', 'rotate', 'src_1'], { env })).sent[0]).not.toHaveProperty('body');
    const tooLong = await cli(['keys', 'rotate', 'src_1', '--grace', '8d'], { env });
    expect(tooLong).toMatchObject({ code: 2, sent: [] });
    expect(tooLong.err).toContain('at most 7d');
  });

  it("finds an API key's own workspace when no --workspace is given; the operator token must name one", async () => {
    const whoami = { status: 200, body: { kind: 'api', workspaceId: 'ws_9', keyId: 'k1', scopes: ['admin'] } };
    const r = await cli(['keys', 'list'], { env: { CDP_API_KEY: 'ak' }, answer: whoami });
    expect(r.sent.map((s) => `${s.method} ${s.url} ${s.headers?.['authorization']}`)).toEqual([
      'GET http://localhost:3001/v1/admin/whoami Bearer ak',
      'GET http://localhost:3001/v1/admin/workspaces/ws_9/keys Bearer ak',
    ]);
    const named = await cli(['-w', 'ws_1', 'sources', 'create', 'web'], { env: { CDP_API_KEY: 'ak' }, answer: whoami });
    expect(named.sent.map((s) => s.url)).toEqual(['http://localhost:3001/v1/admin/workspaces/ws_1/sources']);
    const refused = await cli(['keys', 'list'], {
      env: { CDP_API_KEY: 'bad' },
      answer: { status: 401, body: { message: 'API key is not valid' } },
    });
    expect({ code: refused.code, sent: refused.sent.length }).toEqual({ code: 1, sent: 1 });
    expect(refused.err).toContain('API key is not valid');
  });

  it("reads, replaces and deletes a source's webhook mapping", async () => {
    const env = { CDP_ADMIN_TOKEN: 'op', CDP_WORKSPACE_ID: 'ws_1' };
    const url = 'http://localhost:3001/v1/admin/workspaces/ws_1/sources/src%201/webhook-mapping';
    expect((await cli(['sources', 'webhook-mapping', 'get', 'src 1'], { env })).sent).toEqual([
      { method: 'GET', service: 'collector', url, headers: { authorization: 'Bearer op' } },
    ]);
    const mapping = { type: 'track', event: '/event_name', userId: '/user/id' };
    const set = await cli(['sources', 'webhook-mapping', 'set', 'src 1', 'm.json'], { env, files: { 'm.json': JSON.stringify(mapping) } });
    expect(set.sent[0]).toMatchObject({ method: 'PUT', url, body: mapping });
    const gone = await cli(['--json', 'sources', 'webhook-mapping', 'delete', 'src 1'], { env, answer: { status: 204, body: null } });
    expect({ method: gone.sent[0]?.method, out: JSON.parse(gone.out) }).toEqual({
      method: 'DELETE',
      out: { sourceId: 'src 1', deleted: true },
    });
  });

  it("reads one profile's predictions on the segmenter", async () => {
    const r = await cli(['predictions', 'profile', 'p_1'], { env: { CDP_API_KEY: 'ak' } });
    expect(r.sent[0]).toMatchObject({ method: 'GET', url: 'http://localhost:3005/v1/predictions/profiles/p_1' });
  });

  it('sends the scopes of a new API key as a list', async () => {
    const r = await cli(['api-keys', 'create', 'reader', '--scopes', 'read:profiles, read:segments,read:profiles'], {
      env: { CDP_API_KEY: 'ak', CDP_WORKSPACE_ID: 'ws_1' },
    });
    expect(r.sent[0]?.body).toEqual({ name: 'reader', scopes: ['read:profiles', 'read:segments'] });
  });

  it('puts identity rules read from a file, on the identity-resolver', async () => {
    const r = await cli(['identity-rules', 'set', 'rules.json'], {
      env: { CDP_API_KEY: 'ak' },
      files: { 'rules.json': '{"limits":{"email":1}}' },
    });
    expect(r.sent[0]).toMatchObject({ method: 'PUT', url: 'http://localhost:3003/v1/identity-rules', body: { limits: { email: 1 } } });
  });

  it('creates segments from text or from a JSON AST file, and pages members', async () => {
    const env = { CDP_API_KEY: 'ak', CDP_SEGMENTER_URL: 'http://seg:1' };
    const text = await cli(['segments', 'create', 'DE', '--definition', "trait('country') = 'DE'"], { env });
    expect(text.sent[0]).toMatchObject({
      method: 'POST',
      url: 'http://seg:1/v1/segments',
      body: { name: 'DE', definition: "trait('country') = 'DE'" },
    });
    const ast = await cli(['segments', 'create', 'DE', '-f', 'de.json'], { env, files: { 'de.json': '{"trait":"country"}' } });
    expect(ast.sent[0]?.body).toEqual({ name: 'DE', definition: { trait: 'country' } });
    const members = await cli(['segments', 'members', 'seg_1', '--limit', '10', '--after', 'p_9'], { env });
    expect(members.sent[0]?.url).toBe('http://seg:1/v1/segments/seg_1/members?limit=10&after=p_9');
  });

  it('gets a profile by type:value, optionally one section', async () => {
    const r = await cli(['profiles', 'get', 'email:jane+x@example.com', '--section', 'traits'], { env: { CDP_API_KEY: 'ak' } });
    expect(r.sent.at(-1)?.url).toBe('http://localhost:3004/v1/profiles/email%3Ajane%2Bx%40example.com/traits');
  });
});

describe('cdp failures', () => {
  it.each([
    [['workspaces', 'create', 'A'], {}, 'no admin token: pass --admin-token or set CDP_ADMIN_TOKEN'],
    [['sources', 'list'], { CDP_ADMIN_TOKEN: 'op' }, 'no workspace'],
    [['segments', 'list'], {}, 'no API key'],
    [['segments', 'create', 'X'], { CDP_API_KEY: 'ak' }, 'give exactly one of --definition and --file'],
    [['identity-rules', 'set', 'missing.json'], { CDP_API_KEY: 'ak' }, 'cannot read missing.json'],
    [['--collector-url', 'not a url', 'workspaces', 'create', 'A'], { CDP_ADMIN_TOKEN: 'op' }, 'is not a URL'],
    [
      ['--segmenter-url', 'localhost:23005', 'segments', 'list'],
      { CDP_API_KEY: 'ak' },
      'CDP_SEGMENTER_URL / --segmenter-url must be an http:// or https:// URL: localhost:23005 (e.g. http://localhost:23005)',
    ],
    [['regulations', 'create', '--type', 'delete'], { CDP_API_KEY: 'ak' }, 'give the identifiers with --identifier (repeatable) or --file'],
  ])('%j refuses before sending anything, exit 2', async (argv, env, message) => {
    const r = await cli(argv, { env });
    expect(r.code).toBe(2);
    expect(r.sent).toEqual([]);
    expect(r.err).toContain(message);
  });

  it('reports usage errors (unknown command, missing argument, bad choice) with exit 2', async () => {
    for (const argv of [
      ['nope'],
      ['segments', 'get'],
      ['profiles', 'get', 'p_1', '--section', 'secrets'],
      ['segments', 'members', 's', '--limit', '0'],
    ]) {
      const r = await cli(argv, { env: { CDP_API_KEY: 'ak' } });
      expect([argv, r.code]).toEqual([argv, 2]);
      expect(r.sent).toEqual([]);
    }
  });

  it('names a misspelt option (not the required one it was meant to be) and still refuses a missing one', async () => {
    const env = { CDP_API_KEY: 'ak' };
    const typo = await cli(['regulations', 'create', '--tpye', 'suppress', '-i', 'email:a@b.co'], { env });
    expect(typo).toMatchObject({ code: 2, sent: [] });
    expect(typo.err).toContain("unknown option '--tpye'");
    expect(typo.err).toContain('--type');
    const missing = await cli(['profiles', 'search'], { env });
    expect(missing).toMatchObject({ code: 2, sent: [] });
    expect(missing.err).toContain("error: required option '-t, --trait <name=value>' not specified");
    const help = await cli(['profile-settings', 'set', '--help'], { env });
    expect(help.out.replace(/\s+/g, ' ')).toContain(
      '--timeline-retention-days <n> days the timeline keeps events (0-36500; 0: forever) (required)',
    );
  });

  it('prints the HTTP status and the service message, exit 1, without the token', async () => {
    const r = await cli(['identity-rules', 'set', 'r.json'], {
      env: { CDP_API_KEY: 'ak_very_secret' },
      files: { 'r.json': '{}' },
      answer: { status: 400, body: { statusCode: 400, message: ['blocked.patterns[0] "(a+)+" nests a repeat inside a repeat'] } },
    });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'cdp: PUT /v1/identity-rules (identity-resolver): 400 Bad Request: blocked.patterns[0] "(a+)+" nests a repeat inside a repeat\n',
    );
    expect(r.out + r.err).not.toContain('ak_very_secret');
  });

  it('--help exits 0 and lists the options', async () => {
    const r = await cli(['segments', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--definition <text>');
  });

  it('--help shows the service URLs the CLI will use with this environment', async () => {
    const r = await cli(['--help'], { env: { CDP_PORT_BASE: '23000', CDP_SEGMENTER_URL: 'http://seg:9' } });
    expect(r.code).toBe(0);
    const help = r.out.replace(/\s+/g, ' ');
    expect(help).toContain('[http://localhost:23001: CDP_PORT_BASE + 1]');
    expect(help).toContain('[http://seg:9 from CDP_SEGMENTER_URL]');
  });
});

describe('output', () => {
  it('prints --json raw and otherwise a readable listing', async () => {
    const answer = { status: 200, body: { sources: [{ sourceId: 's1', name: 'web', keyIds: ['k1', 'k2'] }] } };
    const json = await cli(['--json', 'sources', 'list'], { env: { CDP_API_KEY: 'ak', CDP_WORKSPACE_ID: 'w' }, answer });
    expect(JSON.parse(json.out)).toEqual(answer.body);
    const human = await cli(['sources', 'list'], { env: { CDP_API_KEY: 'ak', CDP_WORKSPACE_ID: 'w' }, answer });
    expect(human.out).toBe('sources:\n  - sourceId: s1\n    name: web\n    keyIds: k1, k2\n');
  });

  it('renders nested values and empty lists', () => {
    expect(render({ a: { b: [] }, c: null, d: [[1]] })).toBe('a:\n  b: (none)\nc: -\nd:\n  - [1]\n');
  });
});

describe('config helpers', () => {
  it('defaults to the local ports and trims trailing slashes', () => {
    expect(resolveConfig({}, { CDP_PROFILE_STORE_URL: 'http://p:1/' })).toEqual({
      collectorUrl: 'http://localhost:3001',
      normalizerUrl: 'http://localhost:3002',
      identityUrl: 'http://localhost:3003',
      profilesUrl: 'http://p:1',
      segmenterUrl: 'http://localhost:3005',
    });
    // Beside a second `npm start` (CDP_PORT_BASE=4000): its ports.
    expect(resolveConfig({}, { CDP_PORT_BASE: '4000' })).toMatchObject({
      collectorUrl: 'http://localhost:4001',
      segmenterUrl: 'http://localhost:4005',
    });
  });

  it('parses scope lists', () => {
    expect(parseScopes('admin')).toEqual(['admin']);
    expect(() => parseScopes(' , ')).toThrow('at least one scope');
  });
});
