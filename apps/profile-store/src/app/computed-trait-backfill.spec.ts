import fc from 'fast-check';
import { backfillView, matchingByProfile } from './computed-trait-backfill';
import type { BackfillProgress } from './computed-traits.repository';
import {
  applyToStates,
  backfillStates,
  markKey,
  mergeStates,
  stateKey,
  traitValue,
  type Aggregation,
  type ComputedTraitDefinition,
  type TimelineEvent,
  type TraitState,
  type TraitStates,
} from './user-computed-traits';

const DAY = 24 * 60 * 60 * 1000;
const NOW = 100 * DAY;

const def = (aggregation: Aggregation): ComputedTraitDefinition => ({
  name: `t_${aggregation}`,
  event: 'Bought',
  property: aggregation === 'count' ? null : 'v',
  aggregation,
  windowDays: null,
});
const AGGS: Aggregation[] = ['count', 'sum', 'min', 'max', 'first', 'last', 'most_frequent', 'distinct_count'];

const timelineEvent = (i: number, v: number, event = 'Bought', profileId = 'p1'): TimelineEvent => ({
  id: `ws:m${String(i).padStart(4, '0')}`,
  profileId,
  messageId: `m${String(i).padStart(4, '0')}`,
  type: 'track',
  event,
  name: null,
  properties: JSON.stringify({ v }),
  timestamp: NOW - (i % 50) * 1000,
});

/** A page of the events present in the timeline after `cursor`, as the scan reads it. */
const page = (present: TimelineEvent[], cursor: string | null, size: number): TimelineEvent[] =>
  present
    .filter((e) => cursor === null || e.id > cursor)
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .slice(0, size);

describe('computed-trait backfill with the live path', () => {
  it('counts every event exactly once, however the live path, batches and replays interleave', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...AGGS),
        fc.array(fc.record({ v: fc.integer({ min: 0, max: 5 }), live: fc.boolean(), step: fc.nat(20), other: fc.boolean() }), {
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        (aggregation, specs, batchSize, replays) => {
          const d = def(aggregation);
          const backfilling = { ...d, backfilling: true };
          const events = specs.map((s, i) => timelineEvent(i, s.v, s.other ? 'Viewed' : 'Bought'));
          // Applied before the definition took effect: in the timeline when the backfill starts.
          const before = events.filter((_, i) => !specs[i]?.live);
          // Applied live with the definition at some step; in the timeline from then on.
          const live = events.map((e, i) => ({ e, step: specs[i]?.step ?? 0 })).filter((_, i) => specs[i]?.live);
          let states: TraitStates = {};
          const present = [...before];
          let cursor: string | null = null;
          for (let step = 0; step < 200; step++) {
            for (const l of live.filter((x) => x.step === step)) {
              states = applyToStates(states, [backfilling], l.e, NOW).states;
              present.push(l.e);
            }
            const batch = page(present, cursor, batchSize);
            const last = batch[batch.length - 1];
            if (!last) {
              if (step > 20) break;
              continue;
            }
            const apply = () => {
              const next = backfillStates(states, backfilling, [...matchingByProfile(d, batch).values()].flat(), last.id, NOW);
              if (next) states = next.states;
            };
            apply();
            // A crash before the cursor was saved: the batch runs again.
            if (replays[step % Math.max(1, replays.length)]) apply();
            cursor = last.id;
          }
          // The backfill is done: the live path drops the mark on its next event.
          const expected = events.reduce<TraitStates>((s, e) => applyToStates(s, [d], e, NOW).states, {});
          expect(traitValue(d, states[stateKey(d)] as TraitState, NOW)).toEqual(traitValue(d, expected[stateKey(d)] as TraitState, NOW));
        },
      ),
    );
  });

  it('keeps the live messageIds and the batch positions of both profiles through a merge', () => {
    const d = { ...def('count'), backfilling: true };
    const a = applyToStates({}, [d], timelineEvent(1, 1, 'Bought', 'a'), NOW).states;
    const b1 = backfillStates({}, d, [timelineEvent(2, 1, 'Bought', 'b')], 'ws:m0002', NOW);
    const merged = mergeStates(a, b1?.states ?? {});
    expect(merged[markKey(stateKey(d))]).toEqual({ live: ['m0001'], through: [{ profileId: 'b', id: 'ws:m0002' }] });
    expect(traitValue(d, merged[stateKey(d)] as TraitState, NOW)).toBe(2);
    // The absorbed profile's batch replayed on the survivor, and the live event seen by the scan: nothing more.
    expect(backfillStates(merged, d, [timelineEvent(1, 1, 'Bought', 'a'), timelineEvent(2, 1, 'Bought', 'b')], 'ws:m0002', NOW)).toBeNull();
  });

  it('drops the mark once the definition is no longer backfilling', () => {
    const d = def('count');
    const marked = applyToStates({}, [{ ...d, backfilling: true }], timelineEvent(1, 1), NOW).states;
    expect(Object.keys(marked)).toContain(markKey(stateKey(d)));
    const after = applyToStates(marked, [d], timelineEvent(2, 1), NOW).states;
    expect(Object.keys(after)).toEqual([stateKey(d)]);
    expect(traitValue(d, after[stateKey(d)] as TraitState, NOW)).toBe(2);
  });

  it('shows progress as a percent below 100 until done, and a rate', () => {
    const p: BackfillProgress = {
      stateKey: 'x',
      status: 'running',
      startAfter: 0,
      cursor: 'ws:m1',
      eventsScanned: 150,
      eventsTotal: 100,
      profilesUpdated: 20,
      busyMs: 4000,
      startedAt: 1,
      finishedAt: null,
      error: null,
      owner: null,
      leaseUntil: 0,
    };
    expect(backfillView(p)).toMatchObject({ status: 'running', percent: 99, profilesPerSecond: 5, startedAt: '1970-01-01T00:00:00.001Z' });
    expect(backfillView({ ...p, finishedAt: Date.UTC(2026, 0, 2) }).finishedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(backfillView({ ...p, eventsScanned: 25 }).percent).toBe(25);
    expect(backfillView({ ...p, status: 'done' }).percent).toBe(100);
    expect(backfillView({ ...p, eventsTotal: null, busyMs: 0 })).toMatchObject({ percent: 0, profilesPerSecond: 0 });
  });
});
