import { MongoClient } from 'mongodb';
import { type ProfileChange, type ResolvedEvent } from '@cdp/contracts';
import type { MongoConnection } from '@cdp/mongo';
import { emptyProfile } from '@cdp/profile-model';
import { testScope, waitFor } from '@cdp/testing';
import {
  AUTH,
  DEMO_WS,
  randomPortBase,
  resolvedEvent,
  startProfileStoreStack,
  type ProfileStoreStack,
} from '../testing/profile-store-stack';
import { ComputedTraitBackfill } from './computed-trait-backfill';
import { TimelineScan } from './computed-trait-backfill.repository';
import { ComputedTraitsRepository } from './computed-traits.repository';
import type { ChangeSink } from './profile-change.publisher';
import { ProfilesRepository } from './profiles.repository';
import { TimelineRepository } from './timeline.repository';
import {
  applyToStates,
  stateKey,
  traitValue,
  type ComputedTraitDefinition,
  type TimelineEvent,
  type TraitState,
} from './user-computed-traits';

/**
 * The computed-trait backfill of the built profile-store on the real stack: events first, then the
 * definition (and a restart before the backfill starts) -> the stored timelines are counted; events
 * during and after the backfill -> counted once.
 */
const scope = testScope('ctbackfill');
const WS = DEMO_WS;
const auth = AUTH;

let stack: ProfileStoreStack;

beforeAll(async () => {
  stack = await startProfileStoreStack(scope, { port: randomPortBase() + 6, clientId: 'ct-backfill-it', readChanges: true });
}, 120_000);

afterAll(() => stack?.stop());

let seq = 0;
const order = (profileId: string, total: number, event = 'Order Completed'): ResolvedEvent =>
  resolvedEvent({
    workspaceId: WS,
    profileId,
    messageId: `bf-${scope.id}-${++seq}`,
    type: 'track',
    event,
    timestamp: Date.now() - seq * 1000,
    receivedAt: Date.now(),
    properties: JSON.stringify({ total }),
  });

const send = (profileId: string, events: ResolvedEvent[]): Promise<void> => stack.sendEvents(profileId, events);

interface ProfileBody {
  stats: { eventCount: number };
  computedTraits: Record<string, unknown>;
}

const profile = async (id: string): Promise<ProfileBody | undefined> => {
  const res = await fetch(`${stack.service.url}/v1/profiles/${encodeURIComponent(id)}`, { headers: auth });
  return res.status === 200 ? ((await res.json()) as ProfileBody) : undefined;
};

/** The profile once its events are applied and in its timeline (what the backfill reads). */
async function recorded(id: string, events: number): Promise<void> {
  await waitFor(
    async () => {
      const p = await profile(id);
      if (p?.stats.eventCount !== events) return undefined;
      const res = await fetch(`${stack.service.url}/v1/profiles/${encodeURIComponent(id)}/events?limit=100`, { headers: auth });
      const body = (await res.json()) as { events: unknown[] };
      return body.events.length === events ? true : undefined;
    },
    `${events} events of ${id} recorded`,
    30_000,
  );
}

interface TraitBody {
  backfill: { status: string; percent: number; eventsScanned: number; profilesUpdated: number; profilesPerSecond: number } | null;
}

const trait = async (name: string): Promise<TraitBody> =>
  (await (await fetch(`${stack.service.url}/v1/computed-traits/${name}`, { headers: auth })).json()) as TraitBody;

const put = (name: string, body: unknown) =>
  fetch(`${stack.service.url}/v1/computed-traits/${name}`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const valuesWhen = (id: string, ready: (t: Record<string, unknown>) => boolean, what: string) =>
  waitFor(
    async () => {
      const t = (await profile(id))?.computedTraits;
      return t && ready(t) ? t : undefined;
    },
    what,
    30_000,
  );

it(
  'backfills stored events, resumes after a restart, and counts later events once',
  () =>
    stack.withLogs(async () => {
      const a = `bf-a-${scope.id}`;
      const b = `bf-b-${scope.id}`;
      await send(a, [order(a, 10), order(a, 20), order(a, 5, 'Product Viewed')]);
      await send(b, [order(b, 7)]);
      await recorded(a, 3);
      await recorded(b, 1);

      const res = await put('spent', { event: 'Order Completed', aggregation: 'sum', property: 'total' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as TraitBody).backfill).toMatchObject({ status: 'waiting', percent: 0 });
      expect((await put('orders', { event: 'Order Completed', aggregation: 'count' })).status).toBe(200);

      // A restart before the backfill starts: it runs in the next process (its progress is stored).
      await stack.restart();

      // An event while the backfill waits or runs: the live path counts it, the backfill does not again.
      await send(a, [order(a, 100)]);

      const done = await waitFor(
        async () => {
          const t = await trait('spent');
          return t.backfill?.status === 'done' ? t : undefined;
        },
        'the backfill of spent done',
        60_000,
      );
      expect(done.backfill).toMatchObject({ status: 'done', percent: 100 });
      expect(done.backfill?.eventsScanned).toBeGreaterThanOrEqual(4);
      expect(done.backfill?.profilesUpdated).toBeGreaterThanOrEqual(2);
      await waitFor(async () => ((await trait('orders')).backfill?.status === 'done' ? true : undefined), 'orders backfilled', 60_000);

      expect(await valuesWhen(a, (t) => t['spent'] === 130, 'a backfilled')).toMatchObject({ spent: 130, orders: 3 });
      expect(await valuesWhen(b, (t) => t['spent'] === 7, 'b backfilled')).toMatchObject({ spent: 7, orders: 1 });
      // The backfill told the segmenter: an update with no event, carrying the backfilled value.
      await waitFor(
        () =>
          stack.changes.records.some(
            ({ value: c }) => c.profileId === b && c.eventName === null && JSON.parse(c.computedTraits).spent === 7,
          ),
        'a profile change of b from the backfill',
        30_000,
      );

      // After the backfill: live only, once.
      await send(b, [order(b, 1000)]);
      expect(await valuesWhen(b, (t) => t['spent'] !== 7, 'b after a later event')).toMatchObject({ spent: 1007, orders: 2 });
      // Re-putting the same definition keeps its state and does not backfill again.
      const again = (await (await put('spent', { event: 'Order Completed', aggregation: 'sum', property: 'total' })).json()) as TraitBody;
      expect(again.backfill?.status).toBe('done');
      expect((await profile(a))?.computedTraits).toMatchObject({ spent: 130, orders: 3 });
    }),
  180_000,
);

describe('resuming a backfill that stopped between batches (real FerretDB, no service)', () => {
  // A database of its own: the service above would otherwise pick the backfill up too.
  const own = testScope('ctresume');
  let client: MongoClient;

  afterAll(async () => {
    await client?.db(own.database).dropDatabase();
    await client?.close();
  });

  it('replays the unsaved batch without counting it twice and skips what the live path counted', async () => {
    client = await MongoClient.connect(own.mongoUrl, { retryWrites: false });
    const mongo = { db: client.db(own.database) } as unknown as MongoConnection;
    const [profiles, timeline, definitions] = [
      new ProfilesRepository(mongo),
      new TimelineRepository(mongo),
      new ComputedTraitsRepository(mongo),
    ];
    const ws = 'demo';
    const ev = (i: number): ResolvedEvent => ({ ...order('x', i), workspaceId: ws, messageId: `r-${String(i).padStart(2, '0')}` });
    // _id order interleaves the profiles: pages of 2 are [p1 p2] [p1 p3] [p2 p3].
    const owner: Record<number, string> = { 1: 'p1', 2: 'p2', 3: 'p1', 4: 'p3', 5: 'p2', 6: 'p3' };
    for (const p of ['p1', 'p2', 'p3'])
      expect(await profiles.compareAndSet({ ...emptyProfile(ws, p, Date.now()), version: 1 }, 0)).toBe(true);
    await timeline.record(
      ws,
      Object.entries(owner).map(([i, profileId]) => ({ profileId, event: ev(Number(i)) })),
    );

    const def: ComputedTraitDefinition = {
      name: 'spent',
      event: 'Order Completed',
      property: 'total',
      aggregation: 'sum',
      windowDays: null,
    };
    await definitions.put(ws, def, Date.now());
    const sk = stateKey(def);
    const backfilling = { ...def, backfilling: true };
    // The changes each worker produces, as the segmenter would read them.
    const emitted: ProfileChange[] = [];
    const sink: ChangeSink = { publish: async (changes) => void emitted.push(...changes.map((c) => c.change)) };
    const emittedSpent = () => emitted.splice(0).map((c) => [c.profileId, c.change, c.eventName, JSON.parse(c.computedTraits).spent]);

    // A worker applied pages 1 and 2 but saved only page 1's cursor, then died (its lease has lapsed).
    const crashed = new ComputedTraitBackfill(definitions, profiles, mongo, sink, 2);
    const pages: TimelineEvent[][] = [];
    for await (const page of new TimelineScan(mongo).pages(ws, null, 2)) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
    for (const page of pages.slice(0, 2)) await crashed.applyBatch(ws, backfilling, page, page[page.length - 1]?.id ?? '');
    const firstEnd = pages[0]?.[1]?.id ?? '';
    expect(emittedSpent()).toEqual([
      ['p1', 'updated', null, 1],
      ['p2', 'updated', null, 2],
      ['p1', 'updated', null, 1 + 3],
      ['p3', 'updated', null, 4],
    ]);
    expect(
      await definitions.leaseBackfill(ws, 'spent', sk, 'crashed', Date.now(), -1, {
        status: 'running',
        cursor: firstEnd,
        eventsScanned: 2,
        eventsTotal: 6,
      }),
    ).toBe(true);

    // Meanwhile the live path applied a new event of p2 with the definition (and recorded it).
    const live = ev(7);
    const p2 = await profiles.getWithState(ws, 'p2');
    const states = applyToStates(p2?.custom ?? {}, [backfilling], live, Date.now()).states;
    expect(
      await profiles.compareAndSet({ ...(p2?.profile ?? emptyProfile(ws, 'p2', 0)), version: 3 }, p2?.profile.version ?? 0, states),
    ).toBe(true);
    await timeline.record(ws, [{ profileId: 'p2', event: live }]);

    await new ComputedTraitBackfill(definitions, profiles, mongo, sink, 2).tick(Date.now() + 60_000);
    // The replayed page changes nothing again, but its changes come again (the crash may have lost them).
    expect(emittedSpent()).toEqual([
      ['p1', 'updated', null, 1 + 3],
      ['p3', 'updated', null, 4],
      ['p2', 'updated', null, 2 + 5 + 7],
      ['p3', 'updated', null, 4 + 6],
    ]);

    const progress = (await definitions.getWithProgress(ws, 'spent'))?.backfill;
    expect(progress).toMatchObject({ status: 'done', eventsScanned: 7, cursor: expect.stringContaining('r-07') });
    const value = async (p: string) => traitValue(def, (await profiles.getWithState(ws, p))?.custom[sk] as TraitState, Date.now());
    expect({ p1: await value('p1'), p2: await value('p2'), p3: await value('p3') }).toEqual({ p1: 1 + 3, p2: 2 + 5 + 7, p3: 4 + 6 });
  }, 60_000);
});
