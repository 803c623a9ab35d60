import { startService, testScope, type RunningService } from '@cdp/testing';
import { runCdp } from './cli-test-support';

/** The real `cdp computed-traits` against the built profile-store on the real stack. */
const scope = testScope('cliops');
const PORT = 15_000 + Math.floor(Math.random() * 900) * 10 + 4;

let profiles: RunningService;

beforeAll(async () => {
  profiles = await startService('profile-store', PORT, scope.env);
}, 120_000);

afterAll(async () => {
  await profiles?.stop();
});

const cdp = (...args: string[]) => runCdp(args, { CDP_API_KEY: 'dev-api-key', CDP_PROFILE_STORE_URL: profiles.url });

it('puts, lists, gets (with the backfill status) and deletes a computed trait; a refused one exits 1 with the reason', async () => {
  const put = await cdp(
    '--json',
    'computed-traits',
    'put',
    'spent',
    '--event',
    'Order Completed',
    '--aggregation',
    'sum',
    '--property',
    'total',
  );
  expect({ code: put.code, stderr: put.stderr }).toMatchObject({ code: 0 });
  expect(JSON.parse(put.stdout)).toMatchObject({ name: 'spent', aggregation: 'sum', property: 'total', backfill: { status: 'waiting' } });

  const list = await cdp('computed-traits', 'list');
  expect(list.code).toBe(0);
  expect(list.stdout).toContain('name: spent');
  expect(list.stdout).toContain('status: waiting');

  const got = await cdp('--json', 'computed-traits', 'get', 'spent');
  expect(JSON.parse(got.stdout)).toMatchObject({ name: 'spent', event: 'Order Completed', windowDays: null });

  const bad = await cdp('computed-traits', 'put', 'nope', '--event', 'E', '--aggregation', 'median');
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('PUT /v1/computed-traits/nope (profile-store): 400 Bad Request: aggregation must be one of');

  expect((await cdp('computed-traits', 'delete', 'spent')).code).toBe(0);
  const gone = await cdp('computed-traits', 'get', 'spent');
  expect(gone.code).toBe(1);
  expect(gone.stderr).toContain('404 Not Found: computed trait not found');
}, 240_000);

it('sets and reads the profile settings, searches profiles and says when a profile is unknown', async () => {
  const set = await cdp('--json', 'profile-settings', 'set', '--timeline-retention-days', '90');
  expect({ code: set.code, stderr: set.stderr }).toMatchObject({ code: 0 });
  expect(JSON.parse((await cdp('--json', 'profile-settings', 'get')).stdout)).toMatchObject({ timelineRetentionDays: 90 });
  const search = await cdp('--json', 'profiles', 'search', '-t', `plan=${scope.id}`, '--limit', '5');
  expect({ code: search.code, stderr: search.stderr }).toMatchObject({ code: 0 });
  expect(JSON.parse(search.stdout)).toMatchObject({ profiles: [], next: null });
  const missing = await cdp('profiles', 'export', `user_id:nobody-${scope.id}`);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('404 Not Found');
}, 120_000);
