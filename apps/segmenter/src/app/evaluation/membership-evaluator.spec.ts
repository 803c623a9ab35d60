import fc from 'fast-check';
import type { SegmentChange } from '@cdp/contracts';
import { parseSegment, type ProfileEvent } from '@cdp/segment-language';
import type { SegmentEventsRepository } from '../history/segment-events.repository';
import type { MembershipDocument, MembershipsRepository } from '../membership/memberships.repository';
import { isAfter, stateAfter, type MembershipState, type Transition } from '../membership/transition';
import type { SegmentPredictionsRepository } from '../predictions/segment-predictions.repository';
import type { ScheduleDocument, ScheduleRepository } from '../schedule/schedule.repository';
import type { SegmentSizesRepository } from '../sizes/segment-sizes.repository';
import { compileSegments } from '../segments/segment-catalog';
import { eventsReadFrom, MembershipEvaluator, type ProfileData, type ProfileState } from './membership-evaluator';

const MIN = 60_000;
const def = (text: string) => {
  const r = parseSegment(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.definition;
};
// A windowed segment, one that reads it, and a between-window one (which an order enters late and
// leaves later): transitions must propagate, and start and end on time.
const segments = compileSegments([
  { segmentId: 'buyers', name: 'buyers', definition: def("event('Order').within(10 minutes).count() >= 2 and trait('country') = 'DE'") },
  { segmentId: 'others', name: 'others', definition: def("trait('country') exists and not segment('buyers')") },
  { segmentId: 'lapsed', name: 'lapsed', definition: def("event('Order').between(20 minutes ago, 5 minutes ago).count() = 1") },
]);
const ALL = ['buyers', 'others', 'lapsed'];
const WINDOWED = ['buyers', 'lapsed'];

/** In-memory stand-ins with the same compare-and-set semantics as the Mongo repositories. */
function fakes() {
  const memberships = new Map<string, MembershipDocument>();
  const schedule = new Map<string, number>();
  let scheduleWrites = 0;
  const events: ProfileEvent[] = [];
  /** Net entered - exited counted per segment (the size-history counters). */
  const sizes = new Map<string, number>();
  const repo = {
    forProfiles: async () => new Map([['p', new Map([...memberships.entries()].map(([k, v]) => [k, { ...v }]))]]),
    forProfile: async (_w: string, _p: string, ids: string[]) =>
      new Map(ids.filter((id) => memberships.has(id)).map((id) => [id, { ...(memberships.get(id) as MembershipDocument) }])),
    applyTransition: async (
      _w: string,
      segmentId: string,
      _p: string,
      expected: number | null,
      t: Transition,
      stored: MembershipState | null,
    ) => {
      const cur = memberships.get(segmentId);
      if (expected === null ? cur !== undefined : cur?.membershipVersion !== expected) return false;
      if (
        cur &&
        !isAfter(
          { profileVersion: t.profileVersion, asOf: t.asOf ?? 0 },
          { profileVersion: cur.lastProfileVersion, asOf: cur.lastAsOf ?? 0 },
        )
      )
        return false;
      memberships.set(segmentId, {
        workspaceId: 'w',
        segmentId,
        profileId: 'p',
        ...stateAfter(t, stored),
        updatedAt: new Date(t.occurredAt),
      });
      return true;
    },
  };
  const evaluator = new MembershipEvaluator(
    repo as unknown as MembershipsRepository,
    // Only the names asked for, as the repository reads them: an evaluation must ask for every name it counts.
    {
      forProfiles: async (_w: string, _p: string[], names: readonly string[]) =>
        new Map([['p', events.filter((e) => names.includes(e.name))]]),
    } as unknown as SegmentEventsRepository,
    {
      set: async (_w: string, s: string, _p: string, due: number | null) => {
        scheduleWrites++;
        if (due === null) schedule.delete(s);
        else schedule.set(s, due);
      },
    } as unknown as ScheduleRepository,
    // No segment here reads a predicted trait, so predictions are never read.
    { traitsFor: async () => new Map() } as unknown as SegmentPredictionsRepository,
    {
      count: async (_w: string, s: string, t: Transition) => void sizes.set(s, (sizes.get(s) ?? 0) + (t.change === 'entered' ? 1 : -1)),
    } as unknown as SegmentSizesRepository,
  );
  return { memberships, schedule, events, sizes, evaluator, scheduleWrites: () => scheduleWrites };
}

/** A profile as of one change. */
type Triggered = { profile: ProfileState; asOf: number };

type Step =
  | { kind: 'change'; country: 'DE' | 'FR'; order: boolean; advance: number }
  | { kind: 'redeliver'; pick: number }
  | { kind: 'timer' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('change' as const),
    country: fc.constantFrom('DE' as const, 'FR' as const),
    order: fc.boolean(),
    advance: fc.integer({ min: 0, max: 8 * MIN }),
  }),
  fc.record({ kind: fc.constant('redeliver' as const), pick: fc.nat() }),
  fc.constant({ kind: 'timer' as const }),
);

describe('MembershipEvaluator', () => {
  it("evaluates computed conditions against the profile's computed traits, not its traits", async () => {
    const { evaluator } = fakes();
    const rich = compileSegments([{ segmentId: 'rich', name: 'rich', definition: def("computed('total_revenue') > 500") }]);
    const at = (version: number, total: number, traits: Record<string, unknown> = {}) =>
      evaluator.evaluate(
        'w',
        rich,
        { profileId: 'p', version, traits, computed: { total_revenue: total }, deleted: false, identifiers: [] },
        new Set(['rich']),
        { asOf: version, receivedAt: null },
      );
    expect((await at(1, 600)).map((c) => c.change)).toEqual(['entered']);
    expect((await at(2, 400, { total_revenue: 900 })).map((c) => c.change)).toEqual(['exited']);
  });

  it('emits each transition once (repeats keep their membershipVersion), alternating, and ends where a fresh evaluation would', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const { memberships, schedule, events, sizes, evaluator } = fakes();
        const emitted: SegmentChange[] = [];
        const history: Triggered[] = [];
        let clock = 1_000_000;
        /** The schedule entry the timer would claim next. */
        const earliestDue = () =>
          WINDOWED.flatMap((segmentId) => {
            const at = schedule.get(segmentId);
            return at === undefined ? [] : [{ segmentId, at }];
          }).sort((a, b) => a.at - b.at)[0];
        /** The timer: it awaits its size counts in place. */
        const run = async (profile: ProfileState, asOf: number, direct: string[]) => {
          emitted.push(...(await evaluator.evaluate('w', segments, profile, new Set(direct), { asOf, receivedAt: null })));
        };
        /** The newest version evaluated to the end: a redelivered record (every earlier one, here) is at or before the consumer's mark. */
        let evaluated = 0;
        /**
         * The consumer: its chunk's read (memberships, events, schedule entries) preloaded; a change
         * it evaluated before only repeats; it hands its size counts back.
         */
        const runChange = async ({ profile, asOf }: Triggered) => {
          const counted: Promise<void>[] = [];
          const trigger = { asOf, receivedAt: null, repeatOnly: profile.version <= evaluated };
          const read: ProfileData = {
            events: [...events],
            memberships: new Map([...memberships].map(([id, m]) => [id, { ...m }])),
            schedule: new Map(
              [...schedule].map(([segmentId, dueAt]) => [
                segmentId,
                { workspaceId: 'w', segmentId, profileId: 'p', dueAt, leaseUntil: 0, leaseOwner: '' },
              ]),
            ),
          };
          emitted.push(...(await evaluator.evaluate('w', segments, profile, new Set(ALL), trigger, read, counted)));
          await Promise.all(counted);
          evaluated = Math.max(evaluated, profile.version);
        };
        for (const s of steps) {
          if (s.kind === 'change') {
            clock += s.advance;
            if (s.order) events.push({ name: 'Order', timestamp: clock, properties: {} });
            const profile = {
              profileId: 'p',
              version: history.length + 1,
              traits: { country: s.country },
              computed: {},
              deleted: false,
              identifiers: [],
            };
            history.push({ profile, asOf: clock });
            await runChange({ profile, asOf: clock });
          } else if (s.kind === 'redeliver' && history.length > 0) {
            // Any earlier change again, as a rebalance or a lost commit would bring it.
            await runChange(history[s.pick % history.length] as Triggered);
          } else if (s.kind === 'timer') {
            const due = earliestDue();
            const last = history[history.length - 1];
            if (due && last) {
              clock = Math.max(clock, due.at);
              await run(last.profile, due.at, [due.segmentId]);
            }
          }
        }
        // Drain the timer to a quiet point, then compare with a fresh evaluation as of then.
        const last = history[history.length - 1];
        if (!last) return;
        for (let due = earliestDue(); due; due = earliestDue()) {
          clock = Math.max(clock, due.at);
          await run(last.profile, due.at, [due.segmentId]);
        }
        const at = Math.max(clock, ...[...memberships.values()].map((m) => m.lastAsOf ?? 0));
        const ctx = { traits: last.profile.traits, events, now: at, memberships: new Set<string>() };
        const buyer = segments.byId.get('buyers')?.compiled.matches(ctx) ?? false;
        expect(memberships.get('buyers')?.member ?? false).toBe(buyer);
        expect(memberships.get('others')?.member ?? false).toBe(last.profile.traits.country !== undefined && !buyer);
        // Once every order has passed both edges of its between-window, nothing is due and the membership agrees.
        expect(memberships.get('lapsed')?.member ?? false).toBe(segments.byId.get('lapsed')?.compiled.matches(ctx) ?? false);
        for (const segmentId of ALL) {
          // The size counters saw each stored transition once: their net is the membership.
          expect(sizes.get(segmentId) ?? 0).toBe(memberships.get(segmentId)?.member ? 1 : 0);
          const byVersion = new Map<number, SegmentChange>();
          for (const c of emitted.filter((e) => e.segmentId === segmentId)) {
            const seen = byVersion.get(c.membershipVersion);
            if (seen) expect(c).toEqual(seen);
            byVersion.set(c.membershipVersion, c);
          }
          [...byVersion.keys()]
            .sort((a, b) => a - b)
            .forEach((v, i) => {
              expect(v).toBe(i + 1);
              expect(byVersion.get(v)?.change).toBe(i % 2 === 0 ? 'entered' : 'exited');
            });
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('a redelivered change', () => {
  it('emits again the transition it caused, after a later change moved the membership back', async () => {
    const { evaluator } = fakes();
    const profile = (version: number, traits: Record<string, unknown>): ProfileState => ({
      profileId: 'p',
      version,
      traits,
      computed: {},
      deleted: false,
      identifiers: [],
    });
    const run = (p: ProfileState, asOf: number) => evaluator.evaluate('w', segments, p, new Set(['others']), { asOf, receivedAt: null });
    const [entered] = await run(profile(1, { country: 'DE' }), 1_000);
    const [exited] = await run(profile(2, {}), 2_000);
    expect([entered?.change, exited?.change]).toEqual(['entered', 'exited']);
    // Both produced records lost: the chunk comes again, both changes emit their transitions again.
    expect(await run(profile(1, { country: 'DE' }), 1_000)).toEqual([entered]);
    expect(await run(profile(2, {}), 2_000)).toEqual([exited]);
  });
});

describe('a redelivered change evaluated before (repeatOnly)', () => {
  it('decides nothing on its stale traits and emits again only what it caused', async () => {
    const { evaluator, events, memberships } = fakes();
    const at = 1_000_000;
    const profile = (version: number, country: string, deleted = false): ProfileState => ({
      profileId: 'p',
      version,
      traits: deleted ? {} : { country },
      computed: {},
      deleted,
      identifiers: [],
    });
    const run = (p: ProfileState, repeatOnly = false) =>
      evaluator.evaluate('w', segments, p, new Set(ALL), { asOf: at, receivedAt: null, repeatOnly });
    events.push({ name: 'Order', timestamp: at, properties: {} });
    const [entered] = await run(profile(1, 'DE'));
    expect(entered).toMatchObject({ segmentId: 'others', change: 'entered', membershipVersion: 1 });
    events.push({ name: 'Order', timestamp: at, properties: {} }); // a second order, with v2
    expect(await run(profile(2, 'FR'))).toEqual([]);
    // v1 again: decided on its own traits (DE), it would now see two orders and enter 'buyers', which never was.
    expect(await run(profile(1, 'DE'), true)).toEqual([entered]);
    expect(memberships.has('buyers')).toBe(false);
    const [exited] = await run(profile(3, '', true));
    expect(exited).toMatchObject({ segmentId: 'others', change: 'exited', membershipVersion: 2 });
    // An erased person is not re-entered by an older change either.
    expect(await run(profile(1, 'DE'), true)).toEqual([entered]);
    expect(memberships.get('others')?.member).toBe(false);
    expect(memberships.has('buyers')).toBe(false);
  });
});

describe("a chunk's read of the schedule", () => {
  it('writes a due time only when it moves, or when the entry is claimed', async () => {
    const { evaluator, schedule, scheduleWrites } = fakes();
    const at = 1_000_000;
    const order = { name: 'Order', timestamp: at, properties: {} };
    const data: ProfileData = { events: [order, order], memberships: new Map(), schedule: new Map() };
    const run = (version: number, asOf: number) =>
      evaluator.evaluate(
        'w',
        segments,
        { profileId: 'p', version, traits: { country: 'DE' }, computed: {}, deleted: false, identifiers: [] },
        new Set(ALL),
        { asOf, receivedAt: null },
        data,
      );
    await run(1, at);
    // 'buyers' is due when the orders leave its 10 minutes, 'lapsed' when they enter its window.
    expect(Object.fromEntries(schedule)).toEqual({ buyers: at + 10 * MIN, lapsed: at + 5 * MIN });
    expect(scheduleWrites()).toBe(2);
    await run(2, at + 1_000); // same due times: nothing written
    expect(scheduleWrites()).toBe(2);
    (data.schedule?.get('lapsed') as ScheduleDocument).leaseUntil = at + 2_000; // the timer claimed it
    await run(3, at + 2_000);
    expect(scheduleWrites()).toBe(3);
    // No order: nothing due, and nothing stored to remove.
    const { evaluator: fresh, scheduleWrites: freshWrites } = fakes();
    const empty: ProfileData = { events: [], memberships: new Map(), schedule: new Map() };
    const profile = { profileId: 'p', version: 1, traits: { country: 'DE' }, computed: {}, deleted: false, identifiers: [] };
    await fresh.evaluate('w', segments, profile, new Set(ALL), { asOf: at, receivedAt: null }, empty);
    expect(freshWrites()).toBe(0);
  });
});

describe('eventsReadFrom', () => {
  it('names the events of the segments an evaluation can reach: the direct ones and those that read them', () => {
    const workspace = compileSegments([
      { segmentId: 'pro', name: 'pro', definition: def("trait('plan') = 'pro'") },
      { segmentId: 'active-pro', name: 'active-pro', definition: def("segment('pro') and event('Visit').within(7 days).count() >= 1") },
      { segmentId: 'buyers', name: 'buyers', definition: def("event('Order').count() >= 2") },
      { segmentId: 'de', name: 'de', definition: def("trait('country') = 'DE'") },
    ]);
    expect([...eventsReadFrom(workspace, new Set(['de']))]).toEqual([]);
    expect([...eventsReadFrom(workspace, new Set(['pro']))]).toEqual(['Visit']);
    expect([...eventsReadFrom(workspace, new Set(['buyers', 'de']))]).toEqual(['Order']);
    expect(new Set(eventsReadFrom(workspace, new Set(['pro', 'buyers'])))).toEqual(new Set(['Visit', 'Order']));
    expect([...eventsReadFrom(segments, new Set(['others']))]).toEqual([]);
    expect([...eventsReadFrom(segments, new Set(['buyers']))]).toEqual(['Order']);
  });
});
