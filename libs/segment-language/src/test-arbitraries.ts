import fc from 'fast-check';
import {
  COMPARATORS,
  COUNT_COMPARATORS,
  WINDOW_UNITS,
  durationMs,
  type Comparator,
  type Condition,
  type EvaluationContext,
  type EventCondition,
  type PropertyFilter,
  type Scalar,
} from './ast';
import { parseSegment } from './text';

/** fast-check generators of definitions and profiles, shared by the property tests (not part of the library's API). */

export const scalar: fc.Arbitrary<Scalar> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
/** Accepted `matches` patterns: a few shapes, and any string escaped to a literal (so quoting round-trips). */
export const safePattern: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('@acme\\.com$', '^D', 'e', '^[a-z]+$', '^(pro|team)$', '^https?://[^/]+', '\\d{3}', "it's", '^$', '(?:a|b)c?'),
  fc
    .string({ minLength: 1, maxLength: 8 })
    .map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .filter((s) => s.length <= 200),
);

export const key = fc.oneof(fc.constantFrom('country', 'plan', 'age', 'tags'), fc.string({ minLength: 1, maxLength: 8 }));

export const trait: fc.Arbitrary<Condition> = fc.constantFrom<Comparator>(...COMPARATORS).chain((cmp): fc.Arbitrary<Condition> => {
  const base = { op: 'trait' as const, key: '' };
  const withValue = (value: fc.Arbitrary<Scalar | Scalar[]>): fc.Arbitrary<Condition> =>
    fc.record({ key, value }).map((r) => ({ ...base, ...r, cmp }));
  switch (cmp) {
    case 'exists':
      return key.map((k): Condition => ({ ...base, key: k, cmp }));
    case 'in':
      return withValue(fc.array(scalar, { maxLength: 4 }));
    case '<':
    case '<=':
    case '>':
    case '>=':
      return withValue(fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -100, max: 100 })));
    case 'contains':
      return withValue(fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean()));
    case 'starts_with':
      return withValue(fc.string({ maxLength: 6 }));
    case 'matches':
      return fc
        .record({ key, value: safePattern, flags: fc.constantFrom(undefined, 'i' as const) })
        .map(({ key: k, value, flags }): Condition => ({ ...base, key: k, cmp, value, ...(flags ? { flags } : {}) }));
    default:
      return withValue(scalar);
  }
});

/** Computed trait names: built-ins, a workspace's own, one shared with a trait key (the two must not mix), and any. */
export const computedKey = fc.oneof(
  fc.constantFrom('revenue', 'event_count', 'last_seen', 'total_revenue', 'country'),
  fc.string({ minLength: 1, maxLength: 8 }),
);

/** A computed condition: every comparison a trait condition has, on a computed trait name. */
export const computed: fc.Arbitrary<Condition> = fc
  .tuple(trait, computedKey)
  .map(([t, k]): Condition => ({ ...(t as Extract<Condition, { op: 'trait' }>), op: 'computed', key: k }));

export const filter: fc.Arbitrary<PropertyFilter> = trait.map((t) => {
  const { op: _op, ...rest } = t as Extract<Condition, { op: 'trait' }>;
  return rest;
});

export const eventName = fc.constantFrom('Order Completed', 'Signed Up', "it's");
export const duration = fc.record({ amount: fc.integer({ min: 1, max: 90 }), unit: fc.constantFrom(...WINDOW_UNITS) });
/** No window, `within`, or `between` (from strictly longer ago than to), as the validator requires. */
export const window: fc.Arbitrary<Pick<EventCondition, 'within' | 'between'>> = fc.oneof(
  fc.constant({}),
  duration.map((within) => ({ within })),
  fc
    .tuple(duration, duration)
    .filter(([a, b]) => durationMs(a) !== durationMs(b))
    .map(([a, b]) => (durationMs(a) > durationMs(b) ? { between: { from: a, to: b } } : { between: { from: b, to: a } })),
);
export const event: fc.Arbitrary<Condition> = fc
  .record(
    {
      name: eventName,
      where: fc.array(filter, { minLength: 1, maxLength: 3 }),
      window,
      count: fc.record({ cmp: fc.constantFrom(...COUNT_COMPARATORS), value: fc.integer({ min: 0, max: 4 }) }),
    },
    { requiredKeys: ['name', 'window', 'count'] },
  )
  // Canonical key order, as the parser and validator build it.
  .map(
    ({ name, where, window: w, count }): Condition => ({
      op: 'event',
      name,
      ...(where ? { where } : {}),
      ...(w.within ? { within: w.within } : {}),
      ...(w.between ? { between: w.between } : {}),
      count,
    }),
  );
export const segmentRef: fc.Arbitrary<Condition> = fc
  .constantFrom('seg_a', 'seg_b', 'churned')
  .map((segment): Condition => ({ op: 'segment', segment }));

export const consent: fc.Arbitrary<Condition> = fc
  .oneof(fc.constantFrom('marketing', 'analytics', "it's"), fc.string({ minLength: 1, maxLength: 8 }))
  .map((category): Condition => ({ op: 'consent', category }));

export const { condition } = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    trait,
    computed,
    event,
    segmentRef,
    consent,
    fc.record({ op: fc.constant('not' as const), of: tie('condition') }),
    fc.record({ op: fc.constantFrom('and' as const, 'or' as const), of: fc.array(tie('condition'), { minLength: 2, maxLength: 3 }) }),
  ),
}));

// Profiles drawn from the same small key set, so conditions actually hit traits.
export const NOW = 1_700_000_000_000;
/** Strings that the generated patterns hit (in either case), and one whose match lies beyond the tested prefix. */
export const patternHit = fc.constantFrom(
  'jo@acme.com',
  'JO@ACME.COM',
  'DE',
  'de',
  'team',
  'https://x.io/a',
  'tel 123',
  'bc',
  '',
  `${'x'.repeat(600)}@acme.com`,
);
// The consent trait in both shapes it is read in, with values that grant (true) and that do not.
export const consentValue = fc.dictionary(fc.constantFrom('marketing', 'analytics'), fc.oneof(fc.boolean(), scalar));
export const consentTrait = fc.oneof(
  consentValue,
  consentValue.map((categoryPreferences) => ({ categoryPreferences })),
  scalar,
);
/** Computed trait values: numbers around the generated bounds, ISO times, and anything a trait can hold. */
export const computedValues = fc.dictionary(
  fc.constantFrom('revenue', 'event_count', 'last_seen', 'total_revenue', 'country'),
  fc.oneof(
    fc.integer({ min: -100, max: 100 }),
    fc.integer({ min: 0, max: 2_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
    scalar,
    patternHit,
  ),
);
export const profile: fc.Arbitrary<EvaluationContext> = fc.record(
  {
    // Sometimes absent: a context without computed traits (none).
    computed: computedValues,
    traits: fc
      .tuple(
        fc.dictionary(fc.constantFrom('country', 'plan', 'age', 'tags'), fc.oneof(scalar, patternHit, fc.array(scalar, { maxLength: 3 }))),
        fc.option(consentTrait, { nil: undefined }),
      )
      .map(([traits, c]) => (c === undefined ? traits : { ...traits, consent: c })),
    events: fc.array(
      fc.record({
        name: eventName,
        // Whole minutes, hours and days ago as well, so that window edges are hit exactly.
        timestamp: fc.oneof(
          fc.integer({ min: NOW - 100 * 86_400_000, max: NOW }),
          fc.tuple(fc.integer({ min: 0, max: 95 }), fc.constantFrom(60_000, 3_600_000, 86_400_000)).map(([n, unit]) => NOW - n * unit),
        ),
        properties: fc.dictionary(fc.constantFrom('country', 'plan', 'age', 'tags'), fc.oneof(scalar, patternHit)),
      }),
      { maxLength: 6 },
    ),
    memberships: fc.subarray(['seg_a', 'seg_b', 'churned']).map((ids) => new Set(ids)),
    now: fc.constant(NOW),
  },
  { requiredKeys: ['traits', 'events', 'memberships', 'now'] },
);

/** Asserts that the text does not parse, failing at `offset` with `expected` named (shared by the syntax-error tables). */
export function expectSyntaxError(text: string, offset: number, expected: string): void {
  const r = parseSegment(text);
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error.offset).toBe(offset);
    expect(r.error.expected).toContain(expected);
    expect(r.error.message).toContain(`at offset ${offset}`);
  }
}
