import fc from 'fast-check';
import { parseSegment } from '@cdp/segment-language';
import { compileSegments } from '../segments/segment-catalog';
import {
  decide,
  KEPT_TRANSITIONS,
  parseTraits,
  pickTraits,
  segmentsToEvaluate,
  stateAfter,
  toSegmentChange,
  type MembershipState,
  type Transition,
} from './transition';

const at = (profileVersion: number, isMember: boolean) => ({
  isMember,
  profileVersion,
  asOf: 100 + profileVersion,
  receivedAt: 1_000 + profileVersion,
  now: 5_000 + profileVersion,
});

/** Applies a decision to the stored state the way the repository's compare-and-set does. */
function apply(
  stored: MembershipState | null,
  version: number,
  isMember: boolean,
): { state: MembershipState | null; emitted: Transition | null } {
  const d = decide(stored, at(version, isMember));
  if (d.kind === 'none') return { state: stored, emitted: null };
  if (d.kind === 'reemit') return { state: stored, emitted: d.transition };
  expect(d.expectedVersion).toBe(stored ? stored.membershipVersion : null);
  return { state: stateAfter(d.transition, stored), emitted: d.transition };
}

describe('decide', () => {
  it('numbers transitions 1 (entered), 2 (exited), 3 (entered)', () => {
    let state: MembershipState | null = null;
    const seen: [string, number][] = [];
    for (const [v, m] of [
      [1, true],
      [2, true],
      [3, false],
      [4, false],
      [5, true],
    ] as const) {
      const r = apply(state, v, m);
      state = r.state;
      if (r.emitted) seen.push([r.emitted.change, r.emitted.membershipVersion]);
    }
    expect(seen).toEqual([
      ['entered', 1],
      ['exited', 2],
      ['entered', 3],
    ]);
  });

  it('does nothing for a profile that never matched', () => {
    expect(decide(null, at(1, false))).toEqual({ kind: 'none' });
  });

  it('copies profileVersion and receivedAt into the transition', () => {
    expect(decide(null, { isMember: true, profileVersion: 7, asOf: 5, receivedAt: 123, now: 456 })).toEqual({
      kind: 'write',
      expectedVersion: null,
      transition: { change: 'entered', membershipVersion: 1, profileVersion: 7, asOf: 5, occurredAt: 456, receivedAt: 123 },
    });
  });

  it('re-emits the stored transition, unchanged, for the profile version that caused it (lost produce)', () => {
    const first = apply(null, 3, true);
    const again = decide(first.state, { ...at(3, true), now: 99_999 });
    expect(again).toEqual({ kind: 'reemit', transition: first.emitted });
  });

  it('orders triggers by (profileVersion, asOf): a timer firing on the same version exits once; retried, it re-emits', () => {
    const entered = apply(null, 3, true).state;
    const timer = { isMember: false, profileVersion: 3, asOf: 50_000, receivedAt: null, now: 50_001 };
    const exit = decide(entered, timer);
    expect(exit).toMatchObject({ kind: 'write', expectedVersion: 1, transition: { change: 'exited', membershipVersion: 2, asOf: 50_000 } });
    if (exit.kind !== 'write') return;
    const after: MembershipState = {
      member: false,
      membershipVersion: 2,
      lastProfileVersion: 3,
      lastAsOf: 50_000,
      lastTransition: exit.transition,
    };
    expect(decide(after, { ...timer, now: 60_000 })).toEqual({ kind: 'reemit', transition: exit.transition });
    // The change that caused version 3, redelivered, is an older trigger: nothing.
    expect(decide(after, at(3, true))).toEqual({ kind: 'none' });
    // A new version re-enters with the next membershipVersion.
    expect(decide(after, at(4, true))).toMatchObject({ kind: 'write', transition: { change: 'entered', membershipVersion: 3 } });
  });

  it('re-emits an earlier kept transition for its redelivered change, though that change is evaluated as of the later transition', () => {
    const entered = apply(null, 1, true);
    const exited = apply(entered.state, 2, false);
    // The evaluator raises a lagging trigger's asOf to the stored one (102); the change's own time is 101.
    const redelivered = { ...at(1, true), asOf: 102, triggerAsOf: 101 };
    expect(decide(exited.state, redelivered)).toEqual({ kind: 'reemit', transition: entered.emitted });
    // Another trigger of version 1 (its own time 150) caused nothing: nothing to repeat.
    expect(decide(exited.state, { ...redelivered, triggerAsOf: 150 })).toEqual({ kind: 'none' });
  });

  it('re-emits a transition stored as of a raised time for its redelivered change, after a later transition moved that time on', () => {
    // A timer transition stored as of 150; then version 5 (its own time 100) enters, evaluated as of 150.
    const timer = { state: { ...(apply(null, 4, true).state as MembershipState), lastAsOf: 150 } };
    const d = decide(timer.state, { ...at(5, false), asOf: 150, triggerAsOf: 100 });
    if (d.kind !== 'write') throw new Error(`expected a write, got ${d.kind}`);
    const after5 = stateAfter(d.transition, timer.state);
    const after6 = apply(after5, 6, true).state as MembershipState;
    // Version 5 again: evaluated as of the stored 206, recognised by its own 100.
    expect(decide(after6, { ...at(5, false), asOf: after6.lastAsOf ?? 0, triggerAsOf: 100 })).toEqual({
      kind: 'reemit',
      transition: d.transition,
    });
  });

  it('ignores versions older than the stored one, whatever they evaluate to', () => {
    const state = apply(null, 5, true).state;
    expect(decide(state, at(4, false))).toEqual({ kind: 'none' });
    expect(decide(state, at(2, true))).toEqual({ kind: 'none' });
  });

  it('redelivering any prefix of the stream emits again every kept transition it caused, and nothing new', () => {
    const stream = fc.array(fc.boolean(), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(stream, fc.nat(), (members, cut) => {
        let state: MembershipState | null = null;
        const emitted = new Map<number, Transition>();
        members.forEach((m, i) => {
          const r = apply(state, i + 1, m);
          state = r.state;
          if (r.emitted) emitted.set(r.emitted.profileVersion, r.emitted);
        });
        // Redelivery from an earlier offset (all of it stored, none of it produced): every record
        // again, in order, against the final state. It emits only transitions already decided, and
        // every kept one that a redelivered record caused, in order: none is lost with the produce.
        const from = cut % members.length;
        const again: Transition[] = [];
        for (let i = from; i < members.length; i++) {
          const r = apply(state, i + 1, members[i] as boolean);
          expect(r.state).toBe(state);
          if (r.emitted) {
            expect(emitted.get(r.emitted.profileVersion)).toEqual(r.emitted);
            again.push(r.emitted);
          }
        }
        const kept = [...emitted.values()].slice(-KEPT_TRANSITIONS).filter((t) => t.profileVersion > from);
        expect(again).toEqual(kept);
        // Versions strictly alternate entered/exited and count up from 1.
        [...emitted.values()].forEach((t, i) => {
          expect(t.membershipVersion).toBe(i + 1);
          expect(t.change).toBe(i % 2 === 0 ? 'entered' : 'exited');
        });
      }),
    );
  });
});

describe('segmentsToEvaluate', () => {
  const seg = (segmentId: string, keys: string[]) => ({
    segmentId,
    name: segmentId,
    readsAny: (c: readonly string[]) => c.some((k) => keys.includes(k)),
    events: new Set(segmentId === 'c' ? ['Order Completed'] : []),
    computed: new Set<string>(),
  });
  const segments = [seg('a', ['country']), seg('b', ['plan', 'age']), seg('c', ['email'])];

  it('takes only segments reading a changed trait or counting the event on update', () => {
    const updated = (changedTraits: string[], eventName: string | null = null) =>
      segmentsToEvaluate(segments, { change: 'updated', changedTraits, eventName }).map((s) => s.segmentId);
    expect(updated(['age', 'city'])).toEqual(['b']);
    expect(updated([])).toEqual([]);
    expect(updated([], 'Order Completed')).toEqual(['c']);
    expect(updated(['country'], 'Page Viewed')).toEqual(['a']);
  });

  it('takes every segment reading a computed trait on any update (no change names its computed traits)', () => {
    const def = (text: string) => {
      const r = parseSegment(text);
      if (!r.ok) throw new Error(r.error.message);
      return r.definition;
    };
    const { ordered } = compileSegments([
      { segmentId: 'rich', name: 'rich', definition: def("computed('total_revenue') > 500") },
      { segmentId: 'nested', name: 'nested', definition: def("trait('plan') = 'pro' or not computed('event_count') < 3") },
      { segmentId: 'plan', name: 'plan', definition: def("trait('plan') = 'pro'") },
      // A trait that happens to share a computed trait's name is still a trait.
      { segmentId: 'named', name: 'named', definition: def("trait('total_revenue') > 500") },
      { segmentId: 'orders', name: 'orders', definition: def("event('Order Completed').count() >= 2") },
    ]);
    const updated = (changedTraits: string[], eventName: string | null = null) =>
      segmentsToEvaluate(ordered, { change: 'updated', changedTraits, eventName })
        .map((s) => s.segmentId)
        .sort();
    expect(updated([])).toEqual(['nested', 'rich']);
    expect(updated(['plan'])).toEqual(['nested', 'plan', 'rich']);
    expect(updated(['total_revenue'])).toEqual(['named', 'nested', 'rich']);
    expect(updated([], 'Order Completed')).toEqual(['nested', 'orders', 'rich']);
    expect(segmentsToEvaluate(ordered, { change: 'created', changedTraits: [], eventName: null })).toHaveLength(5);
  });

  it.each(['created', 'merged', 'deleted'] as const)('takes every segment on %s', (change) => {
    expect(segmentsToEvaluate(segments, { change, changedTraits: [], eventName: null })).toHaveLength(3);
  });
});

describe('parseTraits', () => {
  it('accepts JSON objects only', () => {
    expect(parseTraits('{"a":1}')).toEqual({ a: 1 });
    expect(parseTraits('[1]')).toBeNull();
    expect(parseTraits('null')).toBeNull();
    expect(parseTraits('{')).toBeNull();
  });
});

describe('toSegmentChange', () => {
  it('carries the transition, ids, identifiers and the picked traits', () => {
    const t: Transition = { change: 'exited', membershipVersion: 2, profileVersion: 9, occurredAt: 10, receivedAt: null };
    const subject = {
      workspaceId: 'w',
      segmentId: 's',
      segmentName: 'S',
      segmentVersion: 3,
      profileId: 'p',
      identifiers: [{ type: 'email', value: 'a@b.co' }],
      traits: { plan: 'pro' },
    };
    expect(toSegmentChange(subject, t)).toEqual({
      workspaceId: 'w',
      segmentId: 's',
      segmentName: 'S',
      segmentVersion: 3,
      profileId: 'p',
      identifiers: [{ type: 'email', value: 'a@b.co' }],
      traits: '{"plan":"pro"}',
      change: 'exited',
      membershipVersion: 2,
      occurredAt: 10,
      profileVersion: 9,
      receivedAt: null,
    });
    expect(toSegmentChange({ ...subject, traits: null }, t).traits).toBeNull();
  });
});

describe('pickTraits', () => {
  it('keeps exactly the named traits the profile has, and is null when none are named', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.string()), (traits, names) => {
        const picked = pickTraits(traits, names);
        if (names.length === 0) return expect(picked).toBeNull();
        const expected = Object.keys(traits).filter((k) => names.includes(k));
        expect(Object.keys(picked ?? {}).sort()).toEqual(expected.sort());
        for (const k of expected) expect(picked?.[k]).toEqual(traits[k]);
      }),
    );
  });
});
