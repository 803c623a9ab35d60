import fc from 'fast-check';
import { applyEvent, eventCountName, type ProfileEvent } from './apply-event';
import { APPLIED_MESSAGE_WINDOW, MAX_EVENT_NAMES, MAX_TRAIT_VALUE_BYTES, MAX_TRAITS, MAX_TRAITS_BYTES, OTHER_EVENTS } from './limits';
import { removeIdentifier } from './identifiers';
import { mergeProfiles } from './merge-profiles';
import { emptyProfile, rememberMessages } from './profile';
import { safeFieldName } from './safe-key';
import { plainTraits } from './traits';
import type { Profile } from './types';

const event = (over: Partial<ProfileEvent> & { messageId: string }): ProfileEvent => ({
  type: 'identify',
  event: null,
  timestamp: 1_000,
  sourceId: 'src',
  identifiers: [],
  traits: '{}',
  properties: '{}',
  ...over,
});

const fresh = (id = 'p1'): Profile => emptyProfile('ws', id, 0);
const applyAll = (profile: Profile, events: readonly ProfileEvent[]): Profile => events.reduce((p, e) => applyEvent(p, e).profile, profile);

// Few keys, few timestamps and values: collisions (same key, same timestamp) are the interesting case.
const traitValue = fc.oneof(
  fc.string({ maxLength: 3 }),
  fc.integer({ min: 0, max: 3 }),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
);
// `address` is kept field by field: parts of it, or a whole non-object value (a reset).
const addressArb = fc.oneof(fc.dictionary(fc.constantFrom('city', 'postalCode', 'street'), traitValue, { maxKeys: 3 }), traitValue);
const traitsArb = fc
  .tuple(
    fc.dictionary(fc.constantFrom('name', 'plan', 'country', 'age'), traitValue, { maxKeys: 4 }),
    fc.option(addressArb, { nil: undefined }),
  )
  .map(([traits, address]) => (address === undefined ? traits : { ...traits, address }));
const eventsArb = fc
  .uniqueArray(
    fc.record({
      messageId: fc.string({ minLength: 1, maxLength: 4 }),
      timestamp: fc.integer({ min: 0, max: 5 }),
      traits: traitsArb,
      identifiers: fc.array(fc.record({ type: fc.constantFrom('email', 'user_id'), value: fc.constantFrom('a', 'b') }), { maxLength: 2 }),
      event: fc.option(fc.constantFrom('Order Completed', 'a.b', '$x'), { nil: null }),
      group: fc.option(fc.constantFrom('acme', 'beta'), { nil: null }),
      properties: fc.oneof(
        fc.constant('{}'),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((revenue) => JSON.stringify({ revenue, total: 1 })),
        fc.integer({ min: 0, max: 1000 }).map((total) => JSON.stringify({ total })),
      ),
    }),
    { selector: (e) => e.messageId, maxLength: 12 },
  )
  .map((rows) =>
    rows.map(({ group, ...r }) =>
      event({
        ...r,
        type: r.event ? 'track' : group ? 'group' : 'identify',
        groupId: r.event ? null : group,
        traits: JSON.stringify(r.traits),
      }),
    ),
  );

describe('applyEvent', () => {
  it('keeps the value of the latest event, whatever the arrival order', () => {
    const newer = event({ messageId: 'm2', timestamp: 2_000, traits: '{"plan":"pro"}' });
    const older = event({ messageId: 'm1', timestamp: 1_000, traits: '{"plan":"free","name":"Jane"}' });
    const p = applyAll(fresh(), [newer, older]);
    expect(plainTraits(p.traits)).toEqual({ name: 'Jane', plan: 'pro' });
    expect(p.traits['plan']).toEqual({ value: 'pro', updatedAt: 2_000, source: 'src', messageId: 'm2' });
  });

  it('reports only the trait keys whose value changed', () => {
    const first = applyEvent(fresh(), event({ messageId: 'm1', traits: '{"a":1,"b":2}' }));
    expect(first.changedTraits).toEqual(['a', 'b']);
    const second = applyEvent(first.profile, event({ messageId: 'm2', timestamp: 2_000, traits: '{"a":1,"b":3}' }));
    expect(second.changedTraits).toEqual(['b']);
    expect(second.profile.traits['a']?.messageId).toBe('m2');
  });

  it('merges identifiers and counts events by name', () => {
    let p = applyEvent(fresh(), event({ messageId: 'm1', timestamp: 5, identifiers: [{ type: 'email', value: 'j@x.io' }] }), 100).profile;
    p = applyEvent(
      p,
      event({ messageId: 'm2', timestamp: 3, type: 'track', event: 'Order.Completed', identifiers: [{ type: 'email', value: 'j@x.io' }] }),
      200,
    ).profile;
    expect(p.identifiers).toEqual([{ type: 'email', value: 'j@x.io', firstSeen: 3, lastSeen: 5 }]);
    expect(p.stats).toEqual({
      firstSeen: 3,
      lastSeen: 5,
      eventCount: 2,
      eventCounts: { identify: 1, Order_Completed: 1 },
      revenueMicros: 0,
    });
    expect(p.version).toBe(2);
    expect(p.updatedAt).toBe(200);
  });

  it('counts at most MAX_EVENT_NAMES distinct names', () => {
    let p = fresh();
    for (let i = 0; i <= MAX_EVENT_NAMES; i++) p = applyEvent(p, event({ messageId: `m${i}`, type: 'track', event: `E${i}` })).profile;
    expect(Object.keys(p.stats.eventCounts)).toHaveLength(MAX_EVENT_NAMES + 1);
    expect(p.stats.eventCounts[OTHER_EVENTS]).toBe(1);
  });

  it('gives the same traits, identifiers and stats for any order of the same events', () => {
    fc.assert(
      fc.property(
        eventsArb.chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })),
        ),
        ([events, shuffled]) => {
          const a = applyAll(fresh(), events);
          const b = applyAll(fresh(), shuffled);
          expect(b.traits).toEqual(a.traits);
          expect(b.identifiers).toEqual(a.identifiers);
          expect(b.accounts).toEqual(a.accounts);
          expect(b.stats.eventCount).toBe(a.stats.eventCount);
          expect(b.stats.eventCounts).toEqual(a.stats.eventCounts);
          expect(b.version).toBe(events.length);
        },
      ),
    );
  });

  it('keeps address parts sent in separate calls, the newest of each, until a newer non-object address', () => {
    const at = (messageId: string, timestamp: number, address: unknown) =>
      event({ messageId, timestamp, traits: JSON.stringify({ address }) });
    const p = applyAll(fresh(), [
      at('m1', 1, { city: 'Berlin' }),
      at('m3', 3, { postalCode: '10115' }),
      at('m2', 2, { city: 'Hamburg', street: 'X' }),
    ]);
    expect(plainTraits(p.traits)['address']).toEqual({ city: 'Hamburg', postalCode: '10115', street: 'X' });
    expect(p.traits['address']).toMatchObject({ updatedAt: 3, messageId: 'm3' });
    const cleared = applyAll(p, [at('m4', 4, null), at('m5', 5, { city: 'Munich' })]);
    expect(plainTraits(cleared.traits)['address']).toEqual({ city: 'Munich' });
    expect(plainTraits(applyAll(p, [at('m6', 6, 'Main St 1')]).traits)['address']).toBe('Main St 1');
  });

  it('changes nothing when an event is delivered again', () => {
    fc.assert(
      fc.property(eventsArb, fc.nat(), (events, pick) => {
        fc.pre(events.length > 0);
        const p = applyAll(fresh(), events);
        const again = applyEvent(p, events[pick % events.length] as ProfileEvent);
        expect(again.applied).toBe(false);
        expect(again.changedTraits).toEqual([]);
        expect(again.profile).toEqual(p);
      }),
    );
  });

  it("sets no trait from a group call's traits (they describe the group), whatever their time", () => {
    const person = applyEvent(
      fresh(),
      event({ messageId: 'i', traits: JSON.stringify({ name: 'Alice', email: 'alice@acme.com' }) }),
    ).profile;
    const group = event({
      messageId: 'g',
      type: 'group',
      timestamp: 2_000,
      traits: JSON.stringify({ name: 'Acme Inc', email: 'billing@acme.com' }),
    });
    const { profile, changedTraits, applied } = applyEvent(person, group);
    expect(applied).toBe(true);
    expect(changedTraits).toEqual([]);
    expect(plainTraits(profile.traits)).toEqual({ name: 'Alice', email: 'alice@acme.com' });
    expect(profile.stats.eventCounts).toMatchObject({ group: 1 });
  });

  it("keeps a group call's group as an account: the newest call's traits, first and last seen", () => {
    const call = (messageId: string, timestamp: number, traits: Record<string, unknown>) =>
      event({ messageId, type: 'group', groupId: 'acme', timestamp, traits: JSON.stringify(traits) });
    const p = applyAll(fresh(), [
      call('g2', 2_000, { name: 'Acme Inc' }),
      call('g1', 1_000, { name: 'Acme' }),
      call('g3', 3_000, { plan: 'pro' }),
    ]);
    expect(p.accounts).toEqual([
      { groupId: 'acme', traits: { plan: 'pro' }, updatedAt: 3_000, messageId: 'g3', firstSeen: 1_000, lastSeen: 3_000 },
    ]);
    expect(applyEvent(p, event({ messageId: 'i', traits: '{"name":"Ann"}' })).profile.accounts).toBe(p.accounts);
  });

  it('tolerates trait text that is not a JSON object', () => {
    const r = applyEvent(fresh(), event({ messageId: 'm1', traits: 'not json' }));
    expect(r.applied).toBe(true);
    expect(r.profile.traits).toEqual({});
  });
});

describe('trait limits', () => {
  const many = (from: number, n: number): string =>
    JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${from + i}`, from + i])));

  it('stores no new trait past MAX_TRAITS and no value past MAX_TRAIT_VALUE_BYTES; known traits still change', () => {
    let p = applyEvent(fresh(), event({ messageId: 'm1', traits: many(0, MAX_TRAITS - 1) })).profile;
    const r = applyEvent(p, event({ messageId: 'm2', timestamp: 2_000, traits: JSON.stringify({ t0: 'new', extra1: 1, extra2: 2 }) }));
    p = r.profile;
    expect(Object.keys(p.traits)).toHaveLength(MAX_TRAITS);
    expect([p.traits['t0']?.value, p.traits['extra1']?.value, 'extra2' in p.traits]).toEqual(['new', 1, false]);
    expect(r.changedTraits).toEqual(['extra1', 't0']);
    const huge = 'x'.repeat(MAX_TRAIT_VALUE_BYTES);
    const big = applyEvent(p, event({ messageId: 'm3', timestamp: 3_000, traits: JSON.stringify({ t1: huge, t2: huge.slice(2) }) }));
    expect([big.profile.traits['t1']?.value, big.profile.traits['t2']?.value, big.changedTraits]).toEqual([1, huge.slice(2), ['t2']]);
    // Bytes, not characters: three bytes each in UTF-8.
    const wide = applyEvent(p, event({ messageId: 'm4', timestamp: 4_000, traits: JSON.stringify({ t3: '語'.repeat(3_000) }) }));
    expect(wide.profile.traits['t3']?.value).toBe(3);
  });

  it('stores no value that would take the traits past MAX_TRAITS_BYTES, whichever trait it is', () => {
    const value = 'v'.repeat(MAX_TRAIT_VALUE_BYTES - 100);
    let p = fresh();
    for (let i = 0; i * MAX_TRAIT_VALUE_BYTES < MAX_TRAITS_BYTES + 4 * MAX_TRAIT_VALUE_BYTES; i++)
      p = applyEvent(p, event({ messageId: `m${i}`, timestamp: i, traits: JSON.stringify({ [`big${i}`]: value }) })).profile;
    const size = Object.entries(p.traits).reduce((n, [k, e]) => n + k.length + JSON.stringify(e.value).length, 0);
    expect(size).toBeLessThanOrEqual(MAX_TRAITS_BYTES);
    expect(size).toBeGreaterThan(MAX_TRAITS_BYTES - 2 * MAX_TRAIT_VALUE_BYTES);
    // A known trait may still shrink, and a small new one may still fit in what is left.
    const after = applyEvent(p, event({ messageId: 'small', timestamp: 10_000, traits: JSON.stringify({ big0: 's', plan: 'pro' }) }));
    expect([after.profile.traits['big0']?.value, after.profile.traits['plan']?.value]).toEqual(['s', 'pro']);
  });

  it('keeps a merge within MAX_TRAITS', () => {
    const a = applyEvent(fresh('a'), event({ messageId: 'a', traits: many(0, MAX_TRAITS - 5) })).profile;
    const b = applyEvent(fresh('b'), event({ messageId: 'b', traits: many(MAX_TRAITS, 10) })).profile;
    expect(Object.keys(mergeProfiles(a, b).profile.traits)).toHaveLength(MAX_TRAITS);
  });
});

describe('mergeProfiles', () => {
  it('is commutative on traits and identifiers and adds counters', () => {
    fc.assert(
      fc.property(eventsArb, eventsArb, (left, right) => {
        const a = applyAll(fresh('a'), left);
        const b = applyAll(
          fresh('b'),
          right.filter((e) => !left.some((l) => l.messageId === e.messageId)),
        );
        const ab = mergeProfiles(a, b).profile;
        const ba = mergeProfiles(b, a).profile;
        expect(ab.traits).toEqual(ba.traits);
        expect(ab.identifiers).toEqual(ba.identifiers);
        expect(ab.accounts).toEqual(ba.accounts);
        expect(ab.stats.eventCount).toBe(a.stats.eventCount + b.stats.eventCount);
        expect(ab.stats.eventCounts).toEqual(ba.stats.eventCounts);
      }),
    );
  });

  it('equals applying all events to one profile', () => {
    fc.assert(
      fc.property(eventsArb, fc.nat(), (events, cut) => {
        const at = events.length ? cut % events.length : 0;
        const merged = mergeProfiles(applyAll(fresh('a'), events.slice(0, at)), applyAll(fresh('b'), events.slice(at))).profile;
        const single = applyAll(fresh('a'), events);
        expect(merged.traits).toEqual(single.traits);
        expect(merged.accounts).toEqual(single.accounts);
        expect(merged.identifiers).toEqual(single.identifiers);
        expect(merged.stats).toEqual(single.stats);
      }),
    );
  });

  it('records the absorbed profiles and bumps the version', () => {
    const a = { ...fresh('a'), version: 3, absorbedProfileIds: ['x'] };
    const b = { ...fresh('b'), absorbedProfileIds: ['y'], traits: { plan: { value: 'pro', updatedAt: 9, source: 's', messageId: 'm' } } };
    const r = mergeProfiles(a, b);
    expect(r.profile.absorbedProfileIds).toEqual(['b', 'x', 'y']);
    expect(r.profile.version).toBe(4);
    expect(r.changedTraits).toEqual(['plan']);
  });
});

describe('removeIdentifier', () => {
  const removal = (type: string, value: string) => ({ removalId: 'removal-1', type, value, removedAt: 100 });

  it('takes exactly that identifier off, once per removal, and leaves the rest of the person as it was', () => {
    fc.assert(
      fc.property(eventsArb, fc.constantFrom('email', 'user_id'), fc.constantFrom('a', 'b'), (events, type, value) => {
        const before = applyAll(fresh(), events);
        const { profile: after, applied } = removeIdentifier(before, removal(type, value), 10);
        expect(applied).toBe(true);
        expect(after.identifiers).toEqual(before.identifiers.filter((i) => i.type !== type || i.value !== value));
        expect(after.version).toBe(before.version + 1);
        expect(after.appliedMessageIds).toEqual([...before.appliedMessageIds, 'removal-1'].slice(-APPLIED_MESSAGE_WINDOW));
        expect(after.removedIdentifiers).toEqual([{ type, value, removedAt: 100 }]);
        const rest = (p: Profile) => ({ ...p, identifiers: [], version: 0, updatedAt: 0, appliedMessageIds: [], removedIdentifiers: [] });
        expect(rest(after)).toEqual(rest(before));
        // Back on the person through a later profile merged in: the same removal again keeps it.
        const later = applyAll(fresh('p2'), [event({ messageId: 'later', receivedAt: 200, identifiers: [{ type, value }] })]);
        const back = mergeProfiles(after, later, 300).profile;
        expect(back.identifiers.some((i) => i.type === type && i.value === value)).toBe(true);
        expect(removeIdentifier(back, removal(type, value), 400)).toEqual({ profile: back, applied: false });
      }),
    );
  });

  it('keeps it off against events received before the removal, whatever order they are applied in', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 6 }), (receipts) => {
        const id = { type: 'anonymous_id', value: 'kiosk' };
        const start = applyAll(fresh(), [event({ messageId: 'first', receivedAt: 0, identifiers: [id] })]);
        const removed = removeIdentifier(start, removal(id.type, id.value), 100).profile;
        const late = receipts.map((receivedAt, i) => event({ messageId: `late-${i}`, receivedAt, identifiers: [id] }));
        const after = applyAll(removed, late);
        // Only an event received after the removal (the resolver linked it again) brings it back.
        expect(after.identifiers.some((i) => i.value === 'kiosk')).toBe(receipts.some((r) => r >= 100));
        expect(after.stats.eventCount).toBe(1 + receipts.length);
        // A merge keeps the survivor's removals, so a late event sent to the absorbed id is held too.
        const merged = mergeProfiles(applyAll(fresh('p0'), []), removed, 150).profile;
        expect(merged.removedIdentifiers).toEqual(removed.removedIdentifiers);
      }),
    );
  });
});

describe('helpers', () => {
  it('keeps a bounded window of the latest messageIds', () => {
    const ids = Array.from({ length: APPLIED_MESSAGE_WINDOW + 10 }, (_, i) => `m${i}`);
    const window = rememberMessages([], ids);
    expect(window).toHaveLength(APPLIED_MESSAGE_WINDOW);
    expect(window[window.length - 1]).toBe(`m${APPLIED_MESSAGE_WINDOW + 9}`);
    expect(window).not.toContain('m0');
  });

  it('makes event names safe field names', () => {
    fc.assert(
      fc.property(fc.string(), (name) => {
        const s = safeFieldName(name);
        expect(s).not.toContain('.');
        expect(s.startsWith('$')).toBe(false);
        expect(['', '__proto__', 'constructor', 'prototype']).not.toContain(s);
      }),
    );
    expect(eventCountName({ type: 'page', event: null })).toBe('page');
  });
});
