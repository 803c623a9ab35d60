import fc from 'fast-check';
import {
  applyToStates,
  mergeStates,
  traitValues,
  type Aggregation,
  type ComputedTraitDefinition,
  type TraitStates,
} from './user-computed-traits';

const DAY = 24 * 60 * 60 * 1000;
const NOW = 100 * DAY + 12 * 3600 * 1000;

interface Ev {
  type: string;
  event: string | null;
  properties: string;
  timestamp: number;
  messageId: string;
}

const def = (aggregation: Aggregation, windowDays: number | null = null, property: string | null = 'v'): ComputedTraitDefinition => ({
  name: `t_${aggregation}_${windowDays ?? 'all'}`,
  event: 'Bought',
  property,
  aggregation,
  windowDays,
});

const ALL_DEFS: ComputedTraitDefinition[] = [
  def('count', null, null),
  def('sum'),
  def('min'),
  def('max'),
  def('average'),
  def('first'),
  def('last'),
  def('most_frequent'),
  def('distinct_count'),
  def('count', 3, null),
  def('sum', 3),
  def('most_frequent', 7),
  def('first', 2),
];

const applyAll = (events: Ev[], defs = ALL_DEFS, now = NOW, start: TraitStates = {}): TraitStates =>
  events.reduce((states, e) => applyToStates(states, defs, e, now).states, start);

/** The value computed straight from the events (the reference the buckets must agree with). */
function reference(d: ComputedTraitDefinition, events: Ev[], now: number): unknown {
  const oldestDay = d.windowDays === null ? -Infinity : Math.floor(now / DAY) - d.windowDays + 1;
  const hits = events
    .filter((e) => e.type === 'track' && e.event === d.event && Math.floor(e.timestamp / DAY) >= oldestDay)
    .map((e) => ({ e, v: (JSON.parse(e.properties) as Record<string, unknown>)[d.property ?? ''] }))
    .filter(({ v }) => d.aggregation === 'count' || (v !== undefined && v !== null))
    .filter(({ v }) => !['sum', 'min', 'max', 'average'].includes(d.aggregation) || typeof v === 'number');
  const nums = hits.map((h) => h.v as number);
  const byTime = [...hits].sort((a, b) => a.e.timestamp - b.e.timestamp || (a.e.messageId < b.e.messageId ? -1 : 1));
  const counts = new Map<string, number>();
  for (const h of hits) counts.set(JSON.stringify(h.v), (counts.get(JSON.stringify(h.v)) ?? 0) + 1);
  switch (d.aggregation) {
    case 'count':
      return hits.length;
    case 'sum':
      return nums.reduce((a, b) => a + b, 0);
    case 'min':
      return nums.length ? Math.min(...nums) : null;
    case 'max':
      return nums.length ? Math.max(...nums) : null;
    case 'average':
      return nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
    case 'first':
      return byTime[0]?.v ?? null;
    case 'last':
      return byTime[byTime.length - 1]?.v ?? null;
    case 'distinct_count':
      return counts.size;
    case 'most_frequent': {
      const max = Math.max(0, ...counts.values());
      const best = [...counts].filter(([, n]) => n === max).map(([k]) => Buffer.from(k).toString('base64url'));
      return best.length ? JSON.parse(Buffer.from(best.sort()[0] as string, 'base64url').toString()) : null;
    }
  }
}

let n = 0;
const eventArb: fc.Arbitrary<Ev> = fc
  .record({
    name: fc.constantFrom('Bought', 'Bought', 'Viewed'),
    type: fc.constantFrom('track', 'track', 'identify'),
    day: fc.integer({ min: 90, max: 100 }),
    ms: fc.integer({ min: 0, max: DAY - 1 }),
    v: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constantFrom('a', 'b', 'c'), fc.constant(null), fc.constant(undefined)),
  })
  .map(({ name, type, day, ms, v }) => ({
    type,
    event: name,
    properties: JSON.stringify(v === undefined ? {} : { v }),
    timestamp: day * DAY + ms,
    messageId: `m${++n}`,
  }));

describe('user-defined computed traits', () => {
  it('count page and screen calls by the name segments use (Viewed <name> Page), not a track event of the bare name', () => {
    const views: ComputedTraitDefinition = {
      name: 'pricing_views',
      event: 'Viewed Pricing Page',
      property: null,
      aggregation: 'count',
      windowDays: null,
    };
    const at = (i: number, type: string, event: string | null, name: string | null) => ({
      type,
      event,
      name,
      properties: '{}',
      timestamp: NOW - i * 1000,
      messageId: `m${i}`,
    });
    let states: TraitStates = {};
    for (const e of [
      at(1, 'page', null, 'Pricing'),
      at(2, 'track', 'Pricing', null),
      at(3, 'screen', null, 'Pricing'),
      at(4, 'page', null, 'Pricing'),
    ])
      states = applyToStates(states, [views], e, NOW).states;
    expect(traitValues([views], states, NOW)).toEqual({ pricing_views: 2 });
  });

  it('agree with a direct computation over the events, windows included', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 40 }), (events) => {
        const values = traitValues(ALL_DEFS, applyAll(events), NOW);
        for (const d of ALL_DEFS) expect([d.name, values[d.name]]).toEqual([d.name, reference(d, events, NOW)]);
      }),
    );
  });

  it('do not depend on the order of arrival', () => {
    fc.assert(
      fc.property(
        fc
          .array(eventArb, { maxLength: 30 })
          .chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length }))),
        ([events, shuffled]) => {
          expect(traitValues(ALL_DEFS, applyAll(shuffled), NOW)).toEqual(traitValues(ALL_DEFS, applyAll(events), NOW));
        },
      ),
    );
  });

  it('merge: two profiles folded together equal one profile that saw every event', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 20 }), fc.array(eventArb, { maxLength: 20 }), (a, b) => {
        const merged = mergeStates(applyAll(a), applyAll(b));
        expect(traitValues(ALL_DEFS, merged, NOW)).toEqual(traitValues(ALL_DEFS, applyAll([...a, ...b]), NOW));
      }),
    );
  });

  it('slide: a windowed value drops old days as time passes, without new events', () => {
    const d = def('count', 3, null);
    const states = applyAll(
      [98, 99, 100].map((day, i) => ({ type: 'track', event: 'Bought', properties: '{}', timestamp: day * DAY, messageId: `w${i}` })),
      [d],
    );
    expect(traitValues([d], states, NOW)[d.name]).toBe(3);
    expect(traitValues([d], states, NOW + DAY)[d.name]).toBe(2);
    expect(traitValues([d], states, NOW + 3 * DAY)[d.name]).toBe(0);
  });

  it('a redefined trait starts from scratch; a deleted one leaves no state behind', () => {
    const sum = def('sum');
    const bought = (v: number, i: number): Ev => ({
      type: 'track',
      event: 'Bought',
      properties: JSON.stringify({ v }),
      timestamp: NOW,
      messageId: `r${i}`,
    });
    const states = applyAll([bought(5, 1)], [sum]);
    const redefined = { ...sum, property: 'w' };
    const after = applyToStates(states, [redefined], { ...bought(7, 2), properties: '{"w":7}' }, NOW).states;
    expect(traitValues([redefined], after, NOW)[sum.name]).toBe(7);
    expect(Object.keys(applyToStates(after, [], bought(1, 3), NOW).states)).toEqual([]);
  });
});
