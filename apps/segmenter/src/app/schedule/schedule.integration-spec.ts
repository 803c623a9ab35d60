import { MongoConnection } from '@cdp/mongo';
import { HealthRegistry, PlatformConfig } from '@cdp/platform';
import { testScope } from '@cdp/testing';
import { DueEntries } from './due-entries';
import { bucketOf, BUCKET_MS, ScheduleBucketsRepository } from './schedule-buckets.repository';
import { ScheduleCursorsRepository } from './schedule-cursors.repository';
import { ScheduleRepository, type ScheduleDocument } from './schedule.repository';

/**
 * The timer's schedule against the real store (FerretDB): entries found through their due
 * second's bucket by `_id`, and the races around it: a placement into a bucket while a pass is
 * working that bucket, entries moved or removed after placement, two instances passing at once,
 * and a restart catching up on buckets that came due while no timer ran.
 */
describe('schedule buckets (FerretDB)', () => {
  const scope = testScope('schedule');
  const connections: MongoConnection[] = [];
  const LEASE_MS = 30_000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Waits until the bucket of `at` is closed, i.e. the current second is past it. */
  const afterBucketOf = async (at: number) => sleep(Math.max(0, (bucketOf(at) + 1) * BUCKET_MS - Date.now() + 50));

  /** One instance's view of the schedule (its own client, as another process would have). */
  const instance = (mongoUrl = scope.mongoUrl) => {
    const mongo = new MongoConnection(Object.assign(new PlatformConfig(), { MONGO_URL: mongoUrl }), new HealthRegistry());
    connections.push(mongo);
    const buckets = new ScheduleBucketsRepository(mongo);
    const cursors = new ScheduleCursorsRepository(mongo);
    const schedule = new ScheduleRepository(mongo, buckets, cursors);
    return { schedule, buckets, cursors, due: new DueEntries(schedule, buckets, cursors) };
  };
  type Instance = ReturnType<typeof instance>;

  /** A pass that records what fired (segment:profile) and releases it, running `onFire` first. */
  const pass = (at: Instance, owner: string, fired: string[], onFire?: (entry: ScheduleDocument) => Promise<void>) =>
    at.due.pass({
      now: Date.now(),
      owner,
      leaseMs: LEASE_MS,
      fire: async (entry) => {
        fired.push(`${entry.segmentId}:${entry.profileId}`);
        await onFire?.(entry);
        await at.schedule.release(entry);
      },
    });

  let a: Instance;

  beforeAll(async () => {
    a = instance();
    for (const r of [a.schedule, a.buckets, a.cursors]) await r.ensureIndexes();
  });

  afterAll(async () => {
    for (const c of connections) await c.onApplicationShutdown();
  });

  it('fires, once, an entry placed in a bucket while a pass is working that bucket', async () => {
    const ws = 'ws-race';
    const dueAt = Date.now() + 1_500;
    await a.schedule.set(ws, 'seg', 'first', dueAt);
    await afterBucketOf(dueAt);
    const fired: string[] = [];
    // While the first entry fires, a second one is placed in the same (now closed) bucket.
    await pass(a, 'timer-a', fired, async (entry) => {
      if (entry.profileId === 'first') await a.schedule.set(ws, 'seg', 'second', dueAt);
    });
    for (let i = 0; i < 3 && !fired.includes('seg:second'); i++) {
      await sleep(BUCKET_MS);
      await pass(a, 'timer-a', fired);
    }
    expect(fired.sort()).toEqual(['seg:first', 'seg:second']);
    expect(await a.schedule.forProfile(ws, 'second')).toEqual([]);
    // Later passes fire nothing more.
    await sleep(BUCKET_MS);
    expect(await pass(a, 'timer-a', fired)).toBe(0);
    expect(fired).toHaveLength(2);
  });

  it('does not fire an entry moved to a later time or removed, at its old time', async () => {
    const ws = 'ws-moved';
    const dueAt = Date.now() + 1_500;
    const later = dueAt + 120_000;
    await a.schedule.set(ws, 'seg', 'moved', dueAt);
    await a.schedule.set(ws, 'seg', 'removed', dueAt);
    await a.schedule.set(ws, 'seg', 'stays', dueAt);
    await a.schedule.set(ws, 'seg', 'moved', later);
    await a.schedule.set(ws, 'seg', 'removed', null);
    await afterBucketOf(dueAt);
    const fired: string[] = [];
    await pass(a, 'timer-a', fired);
    expect(fired).toEqual(['seg:stays']);
    expect((await a.schedule.forProfile(ws, 'moved')).map((e) => e.dueAt)).toEqual([later]);
    expect((await a.buckets.read(ws, [bucketOf(later)]))[0]?.refs).toHaveLength(1);
    // The closed bucket was dropped and the cursor moved past it.
    expect(await a.buckets.read(ws, [bucketOf(dueAt)])).toEqual([]);
    expect(await a.cursors.closedBelow(ws)).toBeGreaterThan(bucketOf(dueAt));
  });

  it('fires each due entry exactly once when two instances pass at the same time', async () => {
    const ws = 'ws-two';
    const b = instance();
    const start = Date.now() + 1_500;
    const people = Array.from({ length: 12 }, (_, i) => `p${i}`);
    // Spread over three seconds, so the passes see several closed buckets.
    for (const [i, p] of people.entries()) await a.schedule.set(ws, 'seg', p, start + (i % 3) * BUCKET_MS);
    await afterBucketOf(start + 2 * BUCKET_MS);
    const fired: string[] = [];
    for (let i = 0; i < 3; i++) {
      await Promise.all([pass(a, 'timer-a', fired), pass(b, 'timer-b', fired)]);
      await sleep(200);
    }
    expect(fired.sort()).toEqual(people.map((p) => `seg:${p}`).sort());
  });

  it('catches up after a restart on buckets that came due while no timer ran', async () => {
    const ws = 'ws-restart';
    const start = Date.now() + 1_000;
    await a.schedule.set(ws, 'seg', 'early', start);
    await a.schedule.set(ws, 'seg', 'late', start + 2 * BUCKET_MS);
    await a.schedule.set(ws, 'seg', 'future', start + 600_000);
    await afterBucketOf(start + 3 * BUCKET_MS);
    // A new process: its own client, nothing in memory.
    const restarted = instance();
    const fired: string[] = [];
    await pass(restarted, 'timer-new', fired);
    expect(fired.sort()).toEqual(['seg:early', 'seg:late']);
    expect((await restarted.schedule.forProfile(ws, 'future')).map((e) => e.dueAt)).toEqual([start + 600_000]);
  });

  it('looks again at an entry another instance holds a lease on, once that lease ends', async () => {
    const ws = 'ws-lease';
    const dueAt = Date.now() + 1_000;
    await a.schedule.set(ws, 'seg', 'held', dueAt);
    await afterBucketOf(dueAt);
    // Another instance claimed it and died: its lease is still running when this pass works the bucket.
    const [entry] = await a.schedule.byRefs(ws, [(await a.buckets.read(ws, [bucketOf(dueAt)]))[0]?.refs[0] ?? '']);
    const held = await a.schedule.claim(entry as ScheduleDocument, Date.now(), 'dead-instance', 2_000);
    expect(held?.leaseOwner).toBe('dead-instance');
    const fired: string[] = [];
    await pass(a, 'timer-a', fired);
    expect(fired).toEqual([]);
    // Placed again at the lease's end: fired by a pass after it.
    await afterBucketOf((held as ScheduleDocument).leaseUntil);
    await pass(a, 'timer-a', fired);
    expect(fired).toEqual(['seg:held']);
  });

  it('places, once, the entries an earlier version wrote without buckets, and fires them when due', async () => {
    const upgraded = instance(testScope('schedupgrade').mongoUrl);
    await upgraded.schedule.ensureIndexes();
    const dueAt = Date.now() + 1_000;
    // As the earlier version stored them: entries only, no bucket, no cursor.
    const db = connections.at(-1)?.db;
    await db?.collection<{ _id: string } & Record<string, unknown>>('segment_schedule').insertMany([
      { _id: 'ws-old:seg:due', workspaceId: 'ws-old', segmentId: 'seg', profileId: 'due', dueAt, leaseUntil: 0, leaseOwner: '' },
      {
        _id: 'ws-old:seg:later' as never,
        workspaceId: 'ws-old',
        segmentId: 'seg',
        profileId: 'later',
        dueAt: dueAt + 600_000,
        leaseUntil: 0,
        leaseOwner: '',
      },
    ]);
    expect(await upgraded.schedule.placeUnbucketed()).toBe(2);
    expect(await upgraded.schedule.placeUnbucketed()).toBe(0);
    await afterBucketOf(dueAt);
    const fired: string[] = [];
    await pass(upgraded, 'timer-up', fired);
    expect(fired).toEqual(['seg:due']);
    expect((await upgraded.buckets.read('ws-old', [bucketOf(dueAt + 600_000)]))[0]?.refs).toEqual(['ws-old:seg:later']);
  });
});
