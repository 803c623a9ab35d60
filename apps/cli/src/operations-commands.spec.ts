import { runWithFakes, type CliRunOptions } from './cli-test-support';
import { traitDefinition } from './operations-commands';
import { parseIdentifier } from './operations-requests';

const cli = (argv: string[], opts: CliRunOptions = {}) => runWithFakes(argv, opts, { CDP_API_KEY: 'ak' });
const auth = { authorization: 'Bearer ak' };

describe('cdp computed-traits', () => {
  it('lists, gets and deletes on the profile-store with the API key', async () => {
    expect((await cli(['computed-traits', 'list'])).sent).toEqual([
      { method: 'GET', service: 'profile-store', url: 'http://localhost:3004/v1/computed-traits', headers: auth },
    ]);
    expect((await cli(['--profiles-url', 'http://p:9/', 'computed-traits', 'get', 'spent'])).sent[0]).toEqual({
      method: 'GET',
      service: 'profile-store',
      url: 'http://p:9/v1/computed-traits/spent',
      headers: auth,
    });
    const del = await cli(['computed-traits', 'delete', 'a b'], { env: { CDP_API_KEY: 'ak', CDP_PROFILE_STORE_URL: 'http://q:1' } });
    expect(del.sent[0]).toMatchObject({ method: 'DELETE', url: 'http://q:1/v1/computed-traits/a%20b' });
    const json = await cli(['--json', 'computed-traits', 'delete', 'spent'], { answer: { status: 204, body: null } });
    expect(JSON.parse(json.out)).toEqual({ name: 'spent', deleted: true });
  });

  it('puts a definition from flags, from a file, or from a file with flags on top', async () => {
    const flags = await cli([
      'computed-traits',
      'put',
      'spent',
      '--event',
      'Order Completed',
      '--aggregation',
      'sum',
      '--property',
      'total',
    ]);
    expect(flags.code).toBe(0);
    expect(flags.sent[0]).toEqual({
      method: 'PUT',
      service: 'profile-store',
      url: 'http://localhost:3004/v1/computed-traits/spent',
      headers: auth,
      body: { event: 'Order Completed', aggregation: 'sum', property: 'total' },
    });
    const files = { 'd.json': '{"event":"Viewed","aggregation":"count","windowDays":7}' };
    expect((await cli(['computed-traits', 'put', 'views', '-f', 'd.json'], { files })).sent[0]?.body).toEqual({
      event: 'Viewed',
      aggregation: 'count',
      windowDays: 7,
    });
    expect((await cli(['computed-traits', 'put', 'views', '-f', 'd.json', '--window-days', '30'], { files })).sent[0]?.body).toEqual({
      event: 'Viewed',
      aggregation: 'count',
      windowDays: 30,
    });
  });

  it('refuses a put without a definition, a bad window or a file that is not an object, sending nothing', async () => {
    for (const argv of [
      ['computed-traits', 'put', 'x'],
      ['computed-traits', 'put', 'x', '--event', 'E', '--aggregation', 'count', '--window-days', '0'],
      ['computed-traits', 'put', 'x', '-f', 'list.json'],
      ['computed-traits', 'put', 'x', '-f', 'missing.json'],
    ]) {
      const r = await cli(argv, { files: { 'list.json': '[1]' } });
      expect({ argv, code: r.code, sent: r.sent.length }).toEqual({ argv, code: 2, sent: 0 });
    }
    expect(() => traitDefinition('x', { file: 'a.json' })).toThrow(/must hold a JSON object/);
    expect(() => traitDefinition(undefined, { aggregation: 'count' })).toThrow('give --event: the event the trait aggregates');
  });

  it('prints the service message of a refused definition with exit 1', async () => {
    const r = await cli(['computed-traits', 'put', 'x', '--event', 'E', '--aggregation', 'median'], {
      answer: { status: 400, body: { message: ['aggregation must be one of count, sum'] } },
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('PUT /v1/computed-traits/x (profile-store): 400 Bad Request: aggregation must be one of count, sum');
  });
});

describe('cdp regulations', () => {
  it('creates one from repeated --identifier (any --type: the service validates) and gets it', async () => {
    const r = await cli([
      'regulations',
      'create',
      '--type',
      'unsuppress',
      '-i',
      'email:jane@example.com',
      '-i',
      'user_id:a:b',
      '--no-pii-hashes',
    ]);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]).toEqual({
      method: 'POST',
      service: 'profile-store',
      url: 'http://localhost:3004/v1/regulations',
      headers: auth,
      body: {
        type: 'unsuppress',
        identifiers: [
          { type: 'email', value: 'jane@example.com' },
          { type: 'user_id', value: 'a:b' },
        ],
      },
    });
    expect((await cli(['regulations', 'get', 'reg_1'])).sent[0]).toMatchObject({
      method: 'GET',
      url: 'http://localhost:3004/v1/regulations/reg_1',
    });
  });

  it('takes the identifiers from a file; needs exactly one source of them and well-formed ones', async () => {
    const files = { 'ids.json': '[{"type":"email","value":"a@b.c"}]', 'short.json': '["email:a@b.c"]' };
    for (const file of ['ids.json', 'short.json']) {
      const r = await cli(['regulations', 'create', '--type', 'delete', '-f', file, '--no-pii-hashes'], { files });
      expect(r.sent[0]?.body).toEqual({ type: 'delete', identifiers: [{ type: 'email', value: 'a@b.c' }] });
    }
    for (const argv of [
      ['regulations', 'create', '--type', 'delete'],
      ['regulations', 'create', '--type', 'delete', '-f', 'ids.json', '-i', 'email:x@y.z'],
      ['regulations', 'create', '--type', 'delete', '-i', 'noseparator'],
      ['regulations', 'create', '-i', 'email:x@y.z'],
    ]) {
      const bad = await cli(argv, { files });
      expect({ argv, code: bad.code, sent: bad.sent.length }).toEqual({ argv, code: 2, sent: 0 });
    }
  });

  it("adds the hashed values the workspace's PII policy stores, asked of the normalizer first", async () => {
    const hashes = {
      status: 200,
      body: {
        identifiers: [
          { type: 'email', value: 'jane@example.com', hashed: 'f00d' },
          { type: 'user_id', value: 'u', hashed: null },
        ],
      },
    };
    const r = await cli(['regulations', 'create', '--type', 'delete', '-i', 'email:jane@example.com', '-i', 'user_id:u'], {
      answer: hashes,
    });
    expect(r.sent).toMatchObject([
      {
        method: 'POST',
        service: 'normalizer',
        url: 'http://localhost:3002/v1/settings/pii/hashes',
        body: {
          identifiers: [
            { type: 'email', value: 'jane@example.com' },
            { type: 'user_id', value: 'u' },
          ],
        },
      },
      {
        method: 'POST',
        url: 'http://localhost:3004/v1/regulations',
        body: {
          type: 'delete',
          identifiers: [
            { type: 'email', value: 'jane@example.com' },
            { type: 'user_id', value: 'u' },
            { type: 'email', value: 'f00d' },
          ],
        },
      },
    ]);
    const refused = await cli(['regulations', 'create', '--type', 'delete', '-i', 'email:jane@example.com'], {
      answer: { status: 403, body: { message: 'API key lacks the admin scope' } },
    });
    expect(refused.code).toBe(1);
    expect(refused.sent).toHaveLength(1);
    expect(refused.err).toContain('--no-pii-hashes');
  });

  it('refuses a regulation the hashed values take past 1000 identifiers, before filing it', async () => {
    const emails = Array.from({ length: 501 }, (_, i) => `email:p${i}@example.com`);
    const hashed = {
      status: 200,
      body: { identifiers: emails.map((e, i) => ({ type: 'email', value: e.slice(6), hashed: `h${i}` })) },
    };
    const r = await cli(['regulations', 'create', '--type', 'delete', '-f', 'many.json'], {
      files: { 'many.json': JSON.stringify(emails) },
      answer: hashed,
    });
    expect({ code: r.code, sent: r.sent.map((s) => s.url) }).toEqual({ code: 2, sent: ['http://localhost:3002/v1/settings/pii/hashes'] });
    expect(r.err).toContain('names 1002 identifiers, more than the 1000 a regulation takes');
  });

  it("adds a phone as the workspace stores it (read in its default region), so the regulation stops that person's events", async () => {
    const stored = { status: 200, body: { identifiers: [{ type: 'phone', value: '+49305555555', hashed: null }] } };
    const r = await cli(['regulations', 'create', '--type', 'suppress', '-i', 'phone:030 5555555'], { answer: stored });
    expect(r.sent[1]?.body).toEqual({
      type: 'suppress',
      identifiers: [
        { type: 'phone', value: '030 5555555' },
        { type: 'phone', value: '+49305555555' },
      ],
    });
    // And a lookup names the stored form alone.
    const get = await cli(['profiles', 'get', 'phone:030 5555555'], { answer: stored });
    expect(get.sent[1]?.url).toBe('http://localhost:3004/v1/profiles/phone%3A%2B49305555555');
  });

  it("takes a file in the API's own shape, and refuses one that holds no list before sending anything", async () => {
    const body = { identifiers: [{ type: 'user_id', value: 'u' }] };
    const r = await cli(['regulations', 'create', '--type', 'delete', '--no-pii-hashes', '-f', 'ids.json'], {
      files: { 'ids.json': JSON.stringify({ type: 'delete', ...body }) },
    });
    expect(r.sent[0]?.body).toEqual({ type: 'delete', ...body });
    const bad = await cli(['regulations', 'create', '--type', 'delete', '-f', 'ids.json'], { files: { 'ids.json': '{"ids": []}' } });
    expect({ code: bad.code, sent: bad.sent.length }).toEqual({ code: 2, sent: 0 });
    expect(bad.err).toContain('ids.json must hold the identifiers as a JSON array');
  });

  it('parses type:value identifiers', () => {
    expect(parseIdentifier('email:a@b.c')).toEqual({ type: 'email', value: 'a@b.c' });
    expect(parseIdentifier(':x')).toBeNull();
    expect(parseIdentifier('email:')).toBeNull();
  });
});

describe('cdp predictions and identity-reviews', () => {
  it('runs predictions and reads the report on the segmenter', async () => {
    const env = { CDP_API_KEY: 'ak', CDP_SEGMENTER_URL: 'http://s:5' };
    expect((await cli(['predictions', 'run'], { env })).sent[0]).toEqual({
      method: 'POST',
      service: 'segmenter',
      url: 'http://s:5/v1/predictions/run',
      headers: auth,
    });
    expect((await cli(['predictions', 'report'], { env })).sent[0]).toMatchObject({
      method: 'GET',
      url: 'http://s:5/v1/predictions/report',
    });
  });

  it('lists reviews with filters and accepts or rejects one on the identity-resolver', async () => {
    const list = await cli(['identity-reviews', 'list', '--status', 'accepted', '--limit', '20', '--offset', '0']);
    expect(list.sent[0]).toEqual({
      method: 'GET',
      service: 'identity-resolver',
      url: 'http://localhost:3003/v1/identity-reviews?status=accepted&limit=20&offset=0',
      headers: auth,
    });
    expect((await cli(['identity-reviews', 'list'])).sent[0]?.url).toBe('http://localhost:3003/v1/identity-reviews');
    expect((await cli(['--identity-url', 'http://i:3', 'identity-reviews', 'accept', 'rv/1'])).sent[0]).toMatchObject({
      method: 'POST',
      url: 'http://i:3/v1/identity-reviews/rv%2F1/accept',
    });
    expect((await cli(['identity-reviews', 'reject', 'rv_2'])).sent[0]).toMatchObject({
      method: 'POST',
      url: 'http://localhost:3003/v1/identity-reviews/rv_2/reject',
    });
    expect((await cli(['identity-reviews', 'list', '--limit', '0'])).code).toBe(2);
  });

  it('needs an API key', async () => {
    const r = await cli(['predictions', 'report'], { env: {} });
    expect(r.code).toBe(2);
    expect(r.sent).toEqual([]);
  });
});

describe('--help', () => {
  it('works on every new command and subcommand', async () => {
    const groups: Record<string, string[]> = {
      'computed-traits': ['list', 'get', 'put', 'delete'],
      regulations: ['create', 'get'],
      predictions: ['run', 'report'],
      'identity-reviews': ['list', 'accept', 'reject'],
    };
    for (const [group, subs] of Object.entries(groups)) {
      const top = await cli([group, '--help']);
      expect(top.code).toBe(0);
      for (const sub of subs) expect(top.out).toContain(sub);
      for (const sub of subs) {
        const r = await cli([group, sub, '--help']);
        expect({ group, sub, code: r.code }).toEqual({ group, sub, code: 0 });
        expect(r.out).toContain(`Usage: cdp ${group} ${sub}`);
      }
    }
  });
});
