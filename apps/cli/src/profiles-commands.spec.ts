import { runWithFakes, type CliRunOptions } from './cli-test-support';
import { isoTime, traitNames } from './arguments';
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

  it('reads only the included traits, and events filtered by name and time', async () => {
    expect(
      (await cli(['profiles', 'get', 'p_1', '--section', 'traits', '--include', ' plan, country,plan', '--verbose'])).sent[0]?.url,
    ).toBe(`${ps}/v1/profiles/p_1/traits?verbose=true&include=plan%2Ccountry`);
    const filtered = await cli([
      'profiles',
      'get',
      'p_1',
      '--section',
      'events',
      '--event',
      ' Order Completed ',
      '--since',
      '2026-11-01',
      '--until',
      '2026-12-01T10:00:00+01:00',
      '--limit',
      '20',
    ]);
    expect(filtered.sent[0]?.url).toBe(
      `${ps}/v1/profiles/p_1/events?limit=20&event=Order+Completed&since=2026-11-01T00%3A00%3A00.000Z&until=2026-12-01T09%3A00%3A00.000Z`,
    );
    // A duration is sent as the time it names (the profile-store takes ISO 8601 only).
    const before = Date.now();
    const recent = await cli(['profiles', 'get', 'p_1', '--section', 'events', '--since', '7d']);
    const since = Date.parse(new URL(recent.sent[0]?.url ?? '').searchParams.get('since') ?? '');
    expect(since).toBeGreaterThanOrEqual(before - 7 * 86_400_000);
    expect(since).toBeLessThanOrEqual(Date.now() - 7 * 86_400_000);
  });

  it.each([
    [['--section', 'events', '--include', 'plan'], '--verbose and --include go with --section traits'],
    [['--include', 'plan'], '--verbose and --include go with --section traits'],
    [['--section', 'traits', '--event', 'E'], '--limit, --cursor, --event, --since and --until go with --section events'],
    [['--since', '7d'], '--limit, --cursor, --event, --since and --until go with --section events'],
    [['--section', 'traits', '--include', ' , '], 'must be 1 to 100 comma-separated trait names'],
    [['--section', 'events', '--event', '  '], 'must be an event name of 1 to 200 characters'],
    [['--section', 'events', '--since', 'yesterday'], 'must be an ISO 8601 time or a duration like 30m, 24h, 7d'],
    [['--section', 'events', '--until', '2026-02-30'], 'must be an ISO 8601 time or a duration like 30m, 24h, 7d'],
    [['--section', 'events', '--since', '2026-12-01', '--until', '2026-11-01'], '--until must be after --since'],
  ])('profiles get p_1 %j exits 2 with a message, sending nothing', async (args, message) => {
    const r = await cli(['profiles', 'get', 'p_1', ...args]);
    expect({ code: r.code, sent: r.sent.length }).toEqual({ code: 2, sent: 0 });
    expect(r.err).toContain(message);
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
    // A search by email or phone names the stored hash too; other traits go as they are.
    const search = await cli(['profiles', 'search', '-t', 'email=Jane@Example.com', '-t', 'plan=pro'], { answer: hashed });
    expect(search.sent.map((s) => s.url)).toEqual([
      'http://localhost:3002/v1/settings/pii/hashes',
      `${ps}/v1/profiles?trait.email=f00d&trait.plan=pro`,
    ]);
    expect(search.sent[0]?.body).toEqual({ identifiers: [{ type: 'email', value: 'Jane@Example.com' }] });
    const plain = await cli(['profiles', 'search', '-t', 'plan=pro']);
    expect(plain.sent.map((s) => s.url)).toEqual([`${ps}/v1/profiles?trait.plan=pro`]);
    const unhashed = await cli(['profiles', 'search', '-t', 'phone=+4930123'], {
      answer: { status: 403, body: { message: 'lacks admin' } },
    });
    expect(unhashed.sent[1]?.url).toBe(`${ps}/v1/profiles?trait.phone=%2B4930123`);
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

describe('profiles get option parsers', () => {
  it('turns the time forms into ISO 8601 UTC for the profile-store', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(isoTime('30m', now)).toBe('2026-12-01T11:30:00.000Z');
    expect(isoTime('7d', now)).toBe('2026-11-24T12:00:00.000Z');
    expect(isoTime('2026-11-29', now)).toBe('2026-11-29T00:00:00.000Z');
    expect(isoTime(' 2026-11-29T20:00:00.5+01:00 ', now)).toBe('2026-11-29T19:00:00.500Z');
    // Without a zone: this machine's local time.
    expect(isoTime('2026-11-29T20:00:00', now)).toBe(new Date(2026, 10, 29, 20).toISOString());
    for (const bad of ['yesterday', '1w', '', '2026-02-30', '2026-13-01', '2026-11-29T25:00:00Z', '999999999d'])
      expect(isoTime(bad, now)).toBeNull();
  });

  it('takes 1 to 100 trait names, trimmed and without repeats', () => {
    expect(traitNames(' plan, country,,plan')).toBe('plan,country');
    expect(traitNames(Array.from({ length: 100 }, (_, i) => `t${i}`).join(','))).toHaveLength(389);
    for (const bad of ['', ' , ', Array.from({ length: 101 }, (_, i) => `t${i}`).join(',')])
      expect(() => traitNames(bad)).toThrow('must be 1 to 100 comma-separated trait names, e.g. plan,country');
  });
});
