import { runWithFakes, type CliRunOptions } from './cli-test-support';

/** Runs the CLI with a fake transport: the requests it would send, what it printed, its exit code. */
const cli = (argv: string[], opts: CliRunOptions = {}) => runWithFakes(argv, opts, { CDP_API_KEY: 'ak' });

const auth = { authorization: 'Bearer ak' };

describe('cdp settings', () => {
  it('gets the settings from the default normalizer URL with the API key', async () => {
    const r = await cli(['settings', 'get']);
    expect(r.code).toBe(0);
    expect(r.sent).toEqual([{ method: 'GET', service: 'normalizer', url: 'http://localhost:3002/v1/settings', headers: auth }]);
  });

  it('replaces them from a JSON file, on the URL of the flag or the environment', async () => {
    const files = { 's.json': '{"defaultRegion":"DE"}' };
    const env = { CDP_API_KEY: 'ak', CDP_NORMALIZER_URL: 'http://n:1/' };
    expect((await cli(['settings', 'set', 's.json'], { env, files })).sent[0]).toEqual({
      method: 'PUT',
      service: 'normalizer',
      url: 'http://n:1/v1/settings',
      headers: auth,
      body: { defaultRegion: 'DE' },
    });
    expect((await cli(['--normalizer-url', 'http://m:2', 'settings', 'get'], { env })).sent[0]?.url).toBe('http://m:2/v1/settings');
  });

  it('needs an API key and sends nothing without one', async () => {
    const r = await cli(['settings', 'get'], { env: {} });
    expect(r.code).toBe(2);
    expect(r.sent).toEqual([]);
    expect(r.err).toMatch(/no API key/);
  });
});

describe('cdp tracking-plans', () => {
  const schema = '{"type":"object","required":["total"]}';

  it('lists, gets and deletes by event name (encoded) or --traits', async () => {
    expect((await cli(['tracking-plans', 'list'])).sent[0]).toMatchObject({
      method: 'GET',
      url: 'http://localhost:3002/v1/tracking-plans',
    });
    expect((await cli(['tracking-plans', 'get', 'Order Completed'])).sent[0]).toMatchObject({
      method: 'GET',
      url: 'http://localhost:3002/v1/tracking-plans/Order%20Completed',
    });
    expect((await cli(['tracking-plans', 'get', '--traits'])).sent[0]?.url).toBe('http://localhost:3002/v1/tracking-plans/identify/traits');
    expect((await cli(['tracking-plans', 'delete', 'a/b'])).sent[0]).toMatchObject({
      method: 'DELETE',
      url: 'http://localhost:3002/v1/tracking-plans/a%2Fb',
    });
  });

  it('lists the violations of flagged events with their filters, and refuses a limit past 200', async () => {
    const r = await cli(['tracking-plans', 'violations', '--event', 'Order Completed', '--since', '24h', '--limit', '10']);
    expect(r.sent[0]).toMatchObject({
      method: 'GET',
      url: 'http://localhost:3002/v1/tracking-plan-violations?event=Order+Completed&since=24h&limit=10',
    });
    expect((await cli(['tracking-plans', 'violations'])).sent[0]?.url).toBe('http://localhost:3002/v1/tracking-plan-violations');
    const tooMany = await cli(['tracking-plans', 'violations', '--limit', '201']);
    expect({ code: tooMany.code, sent: tooMany.sent }).toEqual({ code: 2, sent: [] });
  });

  it('prints a JSON object for a delete with --json (the service answers 204 without a body)', async () => {
    const answer = { status: 204, body: null };
    expect(JSON.parse((await cli(['--json', 'tracking-plans', 'delete', 'Order Completed'], { answer })).out)).toEqual({
      event: 'Order Completed',
      deleted: true,
    });
    expect(JSON.parse((await cli(['--json', 'tracking-plans', 'delete', '--traits'], { answer })).out)).toEqual({
      traits: true,
      deleted: true,
    });
  });

  it('puts a schema file with a mode', async () => {
    const r = await cli(['tracking-plans', 'put', 'Order Completed', '--file', 'o.json', '--mode', 'block'], {
      files: { 'o.json': schema },
    });
    expect(r.sent[0]).toEqual({
      method: 'PUT',
      service: 'normalizer',
      url: 'http://localhost:3002/v1/tracking-plans/Order%20Completed',
      headers: auth,
      body: { schema: JSON.parse(schema), mode: 'block' },
    });
    const traits = await cli(['tracking-plans', 'put', '--traits', '-f', 'o.json'], { files: { 'o.json': schema } });
    expect(traits.sent[0]).toMatchObject({
      url: 'http://localhost:3002/v1/tracking-plans/identify/traits',
      body: { schema: JSON.parse(schema) },
    });
  });

  it('sets the plan defaults', async () => {
    expect((await cli(['tracking-plans', 'defaults', '--mode', 'block', '--allow-unplanned', 'false'])).sent).toMatchObject([
      { method: 'PUT', url: 'http://localhost:3002/v1/tracking-plans', body: { mode: 'block', allowUnplannedEvents: false } },
    ]);
  });

  it('keeps the default not given as it is (the API replaces both)', async () => {
    const stored = { status: 200, body: { mode: 'block', allowUnplannedEvents: true, events: [], traits: null } };
    const r = await cli(['tracking-plans', 'defaults', '--allow-unplanned', 'false'], { answer: stored });
    expect(r.sent).toMatchObject([
      { method: 'GET', url: 'http://localhost:3002/v1/tracking-plans' },
      { method: 'PUT', url: 'http://localhost:3002/v1/tracking-plans', body: { mode: 'block', allowUnplannedEvents: false } },
    ]);
  });

  it.each([
    [['tracking-plans', 'put', 'E', '--file', 'o.json', '--mode', 'reject']],
    [['tracking-plans', 'put', 'E']],
    [['tracking-plans', 'get']],
    [['tracking-plans', 'get', 'E', '--traits']],
    [['tracking-plans', 'put', 'E', '--file', 'missing.json']],
    [['tracking-plans', 'put', 'E', '--file', 'bad.json']],
    [['tracking-plans', 'defaults', '--allow-unplanned', 'maybe']],
    [['tracking-plans', 'defaults']],
  ])('refuses %j with exit 2 and sends nothing', async (argv) => {
    const r = await cli(argv, { files: { 'o.json': schema, 'bad.json': '{' } });
    expect(r.code).toBe(2);
    expect(r.sent).toEqual([]);
  });
});

describe('cdp dlq', () => {
  it('lists with filters as a query string', async () => {
    const r = await cli(['dlq', 'list', '--reason', 'tracking_plan_violation', '--since', '24h', '--limit', '10']);
    expect(r.sent[0]).toEqual({
      method: 'GET',
      service: 'normalizer',
      url: 'http://localhost:3002/v1/dlq?reason=tracking_plan_violation&since=24h&limit=10',
      headers: auth,
    });
    expect((await cli(['dlq', 'list'])).sent[0]?.url).toBe('http://localhost:3002/v1/dlq');
  });

  it('replays with the filters in the body and prints how many', async () => {
    const r = await cli(['dlq', 'replay', '--reason', 'tracking_plan_violation', '--since', '2026-11-29T00:00:00Z'], {
      answer: { status: 200, body: { replayed: 3, skipped: 0 } },
    });
    expect(r.sent[0]).toEqual({
      method: 'POST',
      service: 'normalizer',
      url: 'http://localhost:3002/v1/dlq/replay',
      headers: auth,
      body: { reason: 'tracking_plan_violation', since: '2026-11-29T00:00:00Z' },
    });
    expect(r.out).toBe('replayed: 3\nskipped: 0\n');
    expect((await cli(['dlq', 'replay', '--again'])).sent[0]?.body).toEqual({ again: true });
  });

  it('refuses a reason code no stage writes before sending, and lists the codes in --help', async () => {
    const r = await cli(['dlq', 'list', '--reason', 'bogus']);
    expect({ code: r.code, sent: r.sent }).toEqual({ code: 2, sent: [] });
    expect(r.err).toContain("option '--reason <code>' argument 'bogus' is invalid. must be a DLQ reason code: empty_value,");
    for (const sub of ['list', 'replay'])
      expect((await cli(['dlq', sub, '--help'])).out).toMatch(
        /DLQ reason codes: empty_value, .*tracking_plan_violation, .*invalid_event_properties\./s,
      );
  });

  it('reports the service refusing a filter', async () => {
    const r = await cli(['dlq', 'list', '--since', '7d', '--until', '30d'], {
      answer: { status: 400, body: { statusCode: 400, message: 'since is after until' } },
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/normalizer.*400.*since is after until/);
    expect(r.err).not.toContain('ak');
  });
});
