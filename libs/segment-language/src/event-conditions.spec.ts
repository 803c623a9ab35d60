import fc from 'fast-check';
import { COUNT_COMPARATORS, WINDOW_UNITS, durationMs, type Condition, type ProfileEvent } from './ast';
import { compileDefinition } from './definition';
import { evaluate, findCycle, nextChangeAt } from './evaluate';
import { expectSyntaxError } from './test-arbitraries';
import { parseSegment, printSegment } from './text';
import { validateDefinition } from './validate';

const EXAMPLE = `trait('country') = 'DE' and event('Order Completed').where(property('total') > 100).within(30 days).count() >= 2 and not segment('churned')`;
const DAY = 86_400_000;
const NOW = 1_700_000_000_000;

const parse = (text: string): Condition => {
  const r = parseSegment(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.definition;
};

const order = (daysAgo: number, total: number): ProfileEvent => ({
  name: 'Order Completed',
  timestamp: NOW - daysAgo * DAY,
  properties: { total },
});

describe('event and segment conditions: text form', () => {
  it('parses the brief example into the AST and prints it back unchanged', () => {
    const ast = parse(EXAMPLE);
    expect(ast).toEqual({
      op: 'and',
      of: [
        { op: 'trait', key: 'country', cmp: '=', value: 'DE' },
        {
          op: 'event',
          name: 'Order Completed',
          where: [{ key: 'total', cmp: '>', value: 100 }],
          within: { amount: 30, unit: 'days' },
          count: { cmp: '>=', value: 2 },
        },
        { op: 'not', of: { op: 'segment', segment: 'churned' } },
      ],
    });
    expect(printSegment(ast)).toBe(EXAMPLE);
    expect(validateDefinition(ast)).toEqual({ ok: true, definition: ast });
  });

  it('reads where/within in any order, singular units, several filters, and no count as >= 1', () => {
    expect(parse(`event('A').within(1 hour).where(property('x') exists and property('y') in [1, 2])`)).toEqual({
      op: 'event',
      name: 'A',
      where: [
        { key: 'x', cmp: 'exists' },
        { key: 'y', cmp: 'in', value: [1, 2] },
      ],
      within: { amount: 1, unit: 'hours' },
      count: { cmp: '>=', value: 1 },
    });
  });

  it.each([
    [`event('A').within(0 days)`, 18, 'the window length'],
    [`event('A').within(3 weeks)`, 20, 'a unit'],
    // Words that are also keys of every object's prototype are no units.
    [`event('A').within(3 constructor)`, 20, 'a unit'],
    [`event('A').within(3 __proto__)`, 20, 'a unit'],
    [`event('A').count() >= 1.5`, 22, 'the count'],
    [`event('A').count() != 1`, 19, 'a count comparison'],
    [`event('A').where(trait('x') exists)`, 17, 'a property filter'],
    [`event('A').where(property('x') exists).where(property('y') exists)`, 39, "'within', 'between', or 'count'"],
    [`event('A').sum()`, 11, "'where', 'within', 'between', or 'count'"],
    [`event('A').within(1 day).between(2 days ago, 1 day ago)`, 25, "'where', or 'count'"],
    [`event('A').between(2 days ago, 3 days ago)`, 31, 'a time nearer than the first'],
    [`event('A').between(2 days ago, 48 hours ago)`, 31, 'a time nearer than the first'],
    [`event('A').between(2 days, 1 day ago)`, 25, "'ago'"],
    [`event('A').between(2 days ago 1 day ago)`, 30, "','"],
    [`segment(churned)`, 8, 'the segment id or name as a quoted string'],
  ])('rejects %s at offset %i naming what was expected', expectSyntaxError);

  it('validates the AST fields of event and segment conditions with paths', () => {
    const r = validateDefinition({
      op: 'and',
      of: [
        { op: 'event', name: '', where: [{ key: 'a', cmp: 'nope' }], within: { amount: 0, unit: 'days' }, count: { cmp: '>=', value: -1 } },
        { op: 'segment', segment: 3 },
      ],
    });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.issues.map((i) => i.path)).toEqual([
        '$.of[0].name',
        '$.of[0].where[0].cmp',
        '$.of[0].within',
        '$.of[0].count',
        '$.of[1].segment',
      ]);
  });
});

describe('event and segment conditions: evaluation', () => {
  const example = parse(EXAMPLE);
  const de = { country: 'DE' };

  it('matches the brief example: DE, two orders over 100 in 30 days, not churned', () => {
    const events = [order(1, 150), order(29, 101), order(2, 50), order(40, 500)];
    expect(evaluate(example, { traits: de, events, memberships: new Set(), now: NOW })).toBe(true);
    expect(evaluate(example, { traits: de, events, memberships: new Set(['churned']), now: NOW })).toBe(false);
    expect(evaluate(example, { traits: { country: 'FR' }, events, memberships: new Set(), now: NOW })).toBe(false);
    // The 29-day-old order leaves the window one day later: one order left, no match.
    expect(evaluate(example, { traits: de, events, memberships: new Set(), now: NOW + DAY })).toBe(false);
    expect(nextChangeAt(example, { traits: de, events, now: NOW })).toBe(NOW + DAY);
  });

  const duration = fc.record({ amount: fc.integer({ min: 1, max: 30 }), unit: fc.constantFrom(...WINDOW_UNITS) });
  const windowed = fc
    .record({
      window: fc.oneof(
        duration.map((within) => ({ within })),
        fc
          .tuple(duration, duration)
          .filter(([a, b]) => durationMs(a) !== durationMs(b))
          .map(([a, b]) => ({ between: durationMs(a) > durationMs(b) ? { from: a, to: b } : { from: b, to: a } })),
      ),
      cmp: fc.constantFrom(...COUNT_COMPARATORS),
      value: fc.integer({ min: 0, max: 3 }),
      min: fc.integer({ min: 0, max: 200 }),
    })
    .map(
      ({ window, cmp, value, min }): Condition => ({
        op: 'event',
        name: 'Order Completed',
        where: [{ key: 'total', cmp: '>=', value: min }],
        ...window,
        count: { cmp, value },
      }),
    );
  // Some events lie in the future (clock skew, a back-dated now): a between-window counts them only once they are old enough.
  const events = fc.array(
    fc.record({
      name: fc.constantFrom('Order Completed', 'Other'),
      timestamp: fc.integer({ min: NOW - 40 * DAY, max: NOW + 2 * DAY }),
      properties: fc.record({ total: fc.integer({ min: 0, max: 300 }) }),
    }),
    { maxLength: 8 },
  );
  const conditions = fc.oneof(
    windowed,
    fc.tuple(windowed, windowed).map(([a, b]): Condition => ({ op: 'and', of: [a, { op: 'not', of: b }] })),
  );

  it('does not change between now and nextChangeAt, and nothing is counted once every window has passed', () => {
    fc.assert(
      fc.property(conditions, events, fc.double({ min: 0, max: 1, noNaN: true }), (c, evs, frac) => {
        const ctx = { traits: {}, events: evs, now: NOW };
        const next = nextChangeAt(c, ctx);
        const horizon = next ?? NOW + 100 * DAY;
        const t = NOW + Math.floor((horizon - NOW - 1) * frac);
        expect(evaluate(c, { ...ctx, now: t })).toBe(evaluate(c, ctx));
        if (next !== null) expect(next).toBeGreaterThan(NOW);
        const late = { ...ctx, now: NOW + 10_000 * DAY };
        if (c.op === 'event') expect(evaluate(c, late)).toBe(evaluate({ ...c, count: { ...c.count } }, { ...late, events: [] }));
      }),
    );
  });

  it('schedules no later than the first change the interpreter sees, at every moment of a walk through time', () => {
    // The timer's loop: evaluate, sleep until nextChangeAt, evaluate again. Each probe time the
    // interpreter gives a different answer at must not be skipped by the schedule.
    fc.assert(
      fc.property(
        conditions,
        events,
        fc.array(fc.integer({ min: 1, max: 50 * DAY }), { minLength: 1, maxLength: 12 }),
        (c, evs, offsets) => {
          const probes = [...new Set(offsets)].map((o) => NOW + o).sort((a, b) => a - b);
          let now = NOW;
          let value = evaluate(c, { traits: {}, events: evs, now });
          let next = nextChangeAt(c, { traits: {}, events: evs, now });
          for (const t of probes) {
            while (next !== null && next <= t) {
              now = next;
              value = evaluate(c, { traits: {}, events: evs, now });
              next = nextChangeAt(c, { traits: {}, events: evs, now });
            }
            // Nothing due up to t: the result at t is still the one evaluated last.
            expect(evaluate(c, { traits: {}, events: evs, now: t })).toBe(value);
          }
        },
      ),
    );
  });

  it('a between-window counts an event from when it is old enough until it is too old, and schedules both edges', () => {
    const c = parse(`event('Order Completed').between(2 days ago, 1 day ago).count() >= 1`);
    const e = { name: 'Order Completed', timestamp: NOW - DAY / 2, properties: {} };
    const at = (now: number) => ({ traits: {}, events: [e], now });
    expect(evaluate(c, at(NOW))).toBe(false);
    expect(nextChangeAt(c, at(NOW))).toBe(NOW + DAY / 2);
    expect(evaluate(c, at(NOW + DAY / 2 - 1))).toBe(false);
    expect(evaluate(c, at(NOW + DAY / 2))).toBe(true);
    expect(nextChangeAt(c, at(NOW + DAY / 2))).toBe(e.timestamp + 2 * DAY);
    expect(evaluate(c, at(e.timestamp + 2 * DAY - 1))).toBe(true);
    expect(evaluate(c, at(e.timestamp + 2 * DAY))).toBe(false);
    expect(nextChangeAt(c, at(e.timestamp + 2 * DAY))).toBeNull();
    expect(compileDefinition(c).windowed).toBe(true);
  });

  it('reads, prints and validates a between-window', () => {
    const text = `event('Order Completed').between(60 days ago, 30 days ago).count() >= 2`;
    const ast = parse(text);
    expect(ast).toEqual({
      op: 'event',
      name: 'Order Completed',
      between: { from: { amount: 60, unit: 'days' }, to: { amount: 30, unit: 'days' } },
      count: { cmp: '>=', value: 2 },
    });
    expect(printSegment(ast)).toBe(text);
    expect(parse(`event('A').between(1 day ago, 12 hour ago)`)).toMatchObject({ between: { to: { amount: 12, unit: 'hours' } } });
    const bad = validateDefinition({
      op: 'or',
      of: [
        {
          op: 'event',
          name: 'A',
          between: { from: { amount: 1, unit: 'days' }, to: { amount: 24, unit: 'hours' } },
          count: { cmp: '>=', value: 1 },
        },
        { op: 'event', name: 'A', between: { from: { amount: 0, unit: 'days' } }, count: { cmp: '>=', value: 1 } },
        {
          op: 'event',
          name: 'A',
          within: { amount: 1, unit: 'days' },
          between: { from: { amount: 2, unit: 'days' }, to: { amount: 1, unit: 'days' } },
          count: { cmp: '>=', value: 1 },
        },
      ],
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.issues.map((i) => i.path)).toEqual(['$.of[0].between', '$.of[1].between.from', '$.of[1].between.to', '$.of[2].between']);
  });

  it('counts more events never fewer: a >= bound stays true when an event is added', () => {
    fc.assert(
      fc.property(windowed, events, events, (c, a, b) => {
        if (c.op !== 'event' || c.count.cmp !== '>=') return;
        if (evaluate(c, { traits: {}, events: a, now: NOW }))
          expect(evaluate(c, { traits: {}, events: [...a, ...b], now: NOW })).toBe(true);
      }),
    );
  });

  it('an event condition reads no traits; the compiled definition lists events, segments and windowing', () => {
    const compiled = compileDefinition(example);
    expect([...compiled.traits]).toEqual(['country']);
    expect([...compiled.events]).toEqual(['Order Completed']);
    expect([...compiled.segments]).toEqual(['churned']);
    expect(compiled.windowed).toBe(true);
    expect(compileDefinition(parse(`event('A').count() >= 1`)).windowed).toBe(false);
  });
});

describe('consent conditions', () => {
  const marketing = parse(`consent('marketing')`);

  it('read and print, and validate with a path', () => {
    expect(marketing).toEqual({ op: 'consent', category: 'marketing' });
    expect(printSegment(parse(`CONSENT("marketing") and not consent('ads')`))).toBe(`consent('marketing') and not consent('ads')`);
    const r = validateDefinition({ op: 'consent', category: '' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(['$.category']);
    expect(validateDefinition({ op: 'consent', category: 'x', extra: 1 }).ok).toBe(false);
    const bad = parseSegment(`consent(marketing)`);
    expect(!bad.ok && bad.error).toMatchObject({ offset: 8, expected: expect.stringContaining('the consent category') });
  });

  it.each([
    [{ consent: { marketing: true } }, true],
    [{ consent: { categoryPreferences: { marketing: true } } }, true],
    [{ consent: { marketing: false, categoryPreferences: { marketing: true } } }, true],
    [{ consent: { marketing: 'true' } }, false],
    [{ consent: { marketing: 1 } }, false],
    [{ consent: { analytics: true } }, false],
    [{ consent: ['marketing'] }, false],
    [{ consent: 'marketing' }, false],
    [{ marketing: true }, false],
    [{}, false],
  ])('with traits %j is %s', (traits, expected) => {
    expect(evaluate(marketing, { traits })).toBe(expected);
  });

  it('reads the consent trait: a consent change re-evaluates it, other trait changes do not', () => {
    const compiled = compileDefinition(parse(`consent('marketing') and trait('country') = 'DE'`));
    expect([...compiled.traits]).toEqual(['consent', 'country']);
    expect([...compiled.consents]).toEqual(['marketing']);
    expect(compiled.readsAny(['consent'])).toBe(true);
    expect(compiled.readsAny(['plan'])).toBe(false);
    expect(compiled.windowed).toBe(false);
  });
});

describe('findCycle', () => {
  const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: [], d: ['d'] };
  const readsOf = (id: string) => graph[id] ?? [];

  it('finds a segment that would reach itself', () => {
    expect(findCycle('c', ['a'], readsOf)).toEqual(['c', 'a', 'b', 'c']);
    expect(findCycle('x', ['x'], readsOf)).toEqual(['x', 'x']);
  });

  it('accepts chains and diamonds without cycles', () => {
    expect(findCycle('e', ['a', 'b', 'c'], readsOf)).toBeNull();
    expect(findCycle('e', ['d'], readsOf)).toBeNull();
  });
});
