import { runWithFakes, type CliRunOptions } from './cli-test-support';
import { parseTraitFilter } from './profiles-requests';

const cli = (argv: string[], opts: CliRunOptions = {}) => runWithFakes(argv, opts, { CDP_API_KEY: 'ak' });
const auth = { authorization: 'Bearer ak' };
const ps = 'http://localhost:3004';

describe('cdp profiles', () => {
  it('reads verbose traits and pages of events', async () => {
    expect((await cli(['profiles', 'get', 'user_id:42', '--section', 'traits', '--verbose'])).sent[0]?.url).toBe(
      `${ps}/v1/profiles/user_id%3A42/traits?verbose=true`,
    );
    expect((await cli(['profiles', 'get', 'p_1', '--section', 'events', '--limit', '50', '--cursor', 'c/2'])).sent[0]?.url).toBe(
      `${ps}/v1/profiles/p_1/events?limit=50&cursor=c%2F2`,
    );
  });

  it('refuses options that do not go with the section, sending nothing', async () => {
    for (const argv of [
      ['profiles', 'get', 'p_1', '--verbose'],
      ['profiles', 'get', 'p_1', '--section', 'events', '--verbose'],
      ['profiles', 'get', 'p_1', '--limit', '5'],
      ['profiles', 'get', 'p_1', '--section', 'events', '--limit', '0'],
      ['profiles', 'search'],
      ['profiles', 'search', '--trait', 'noequals'],
    ]) {
      const r = await cli(argv);
      expect({ argv, code: r.code, sent: r.sent.length }).toEqual({ argv, code: 2, sent: 0 });
    }
  });

  it('searches by traits, exports and erases', async () => {
    expect((await cli(['profiles', 'search', '-t', 'plan=pro', '-t', 'note=a=b', '--limit', '10'])).sent[0]).toEqual({
      method: 'GET',
      service: 'profile-store',
      url: `${ps}/v1/profiles?trait.plan=pro&trait.note=a%3Db&limit=10`,
      headers: auth,
    });
    expect((await cli(['profiles', 'export', 'email:a@b.c'])).sent.at(-1)).toMatchObject({
      method: 'GET',
      url: `${ps}/v1/profiles/email%3Aa%40b.c/export`,
    });
    const erased = await cli(['profiles', 'erase', 'p_1'], { answer: { status: 204, body: null } });
    expect(erased.sent[0]).toMatchObject({ method: 'DELETE', url: `${ps}/v1/profiles/p_1` });
    // A 204 says nothing; the CLI says it worked.
    expect(erased.out).toBe('done\n');
    expect(parseTraitFilter('=x')).toBeNull();
  });
});

describe('cdp profiles output', () => {
  const t1 = Date.parse('2026-11-29T20:00:00Z');
  const t2 = Date.parse('2026-11-30T08:30:00.250Z');
  const identifiers = [{ type: 'email', value: 'jane@example.com', firstSeen: t1, lastSeen: t2 }];
  const profile = {
    profileId: 'p_1',
    traits: { firstSeen: 5 },
    identifiers,
    stats: { firstSeen: t1, lastSeen: t2, eventCount: 2 },
    createdAt: '2026-11-29T20:00:00.000Z',
  };
  const ok = (body: unknown) => ({ answer: { status: 200, body } });

  it('prints the answer as it is with --json', async () => {
    const r = await cli(['--json', 'profiles', 'get', 'p_1'], ok(profile));
    expect(JSON.parse(r.out)).toEqual(profile);
  });
});

describe('cdp profiles in a workspace that stores emails hashed', () => {
  it('looks the person up by the hashed value the normalizer names, and by the value as given when it names none', async () => {
    const hashed = { status: 200, body: { identifiers: [{ type: 'email', value: 'jane@example.com', hashed: 'f00d' }] } };
    const r = await cli(['profiles', 'erase', 'email:Jane@Example.com'], { answer: hashed });
    expect(r.sent).toMatchObject([
      {
        method: 'POST',
        service: 'normalizer',
        url: 'http://localhost:3002/v1/settings/pii/hashes',
        body: { identifiers: [{ type: 'email', value: 'Jane@Example.com' }] },
      },
      { method: 'DELETE', url: `${ps}/v1/profiles/email%3Af00d` },
    ]);
    const refused = await cli(['profiles', 'get', 'email:jane@example.com'], { answer: { status: 403, body: { message: 'lacks admin' } } });
    expect(refused.sent.map((s) => s.url)).toEqual([
      'http://localhost:3002/v1/settings/pii/hashes',
      `${ps}/v1/profiles/email%3Ajane%40example.com`,
    ]);
    expect((await cli(['profiles', 'get', 'p_1'])).sent).toHaveLength(1);
    // The identity graph holds the hashed value too.
    const graph = await cli(['identities', 'delete', 'email:Jane@Example.com'], { answer: hashed });
    expect(graph.sent.map((s) => s.url)).toEqual([
      'http://localhost:3002/v1/settings/pii/hashes',
      'http://localhost:3003/v1/identities/email%3Af00d',
    ]);
  });
});

describe('cdp profile-settings and identities', () => {
  it('reads and sets the timeline retention; deletes an identifier from the graph', async () => {
    expect((await cli(['profile-settings', 'get'])).sent[0]).toMatchObject({ method: 'GET', url: `${ps}/v1/profile-settings` });
    expect((await cli(['profile-settings', 'set', '--timeline-retention-days', '0'])).sent[0]).toMatchObject({
      method: 'PUT',
      url: `${ps}/v1/profile-settings`,
      body: { timelineRetentionDays: 0 },
    });
    expect((await cli(['profile-settings', 'set', '--timeline-retention-days', '-1'])).code).toBe(2);
    expect((await cli(['profile-settings', 'set', '--timeline-retention-days', '36500'])).sent[0]?.body).toEqual({
      timelineRetentionDays: 36_500,
    });
    const over = await cli(['profile-settings', 'set', '--timeline-retention-days', '36501']);
    expect({ code: over.code, sent: over.sent }).toEqual({ code: 2, sent: [] });
    expect((await cli(['profile-settings', 'set', '--help'])).out).toMatch(
      /--timeline-retention-days <n>\s+days the timeline keeps events \(0-36500;/,
    );
    expect((await cli(['identities', 'delete', 'user_id:shared'])).sent[0]).toMatchObject({
      method: 'DELETE',
      service: 'identity-resolver',
      url: 'http://localhost:3003/v1/identities/user_id%3Ashared',
    });
    for (const argv of [
      ['identities', 'delete', 'bogus'],
      ['identities', 'get', 'email:'],
    ]) {
      const r = await cli(argv);
      expect({ argv, code: r.code, sent: r.sent }).toEqual({ argv, code: 2, sent: [] });
      expect(r.err).toContain('must be type:value, e.g. email:jane@example.com');
    }
  });
});
