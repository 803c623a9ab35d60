import Ajv from 'ajv';
import fc from 'fast-check';
import type { Condition, EvaluationContext } from './ast';
import { compilePredicate } from './compile';
import { compileDefinition, readDefinition } from './definition';
import { computedRead, evaluate, traitsRead } from './evaluate';
import { SEGMENT_DEFINITION_SCHEMA } from './json-schema';
import { parseSegment, printSegment } from './text';
import { validateDefinition } from './validate';
import { computed, condition, profile, expectSyntaxError } from './test-arbitraries';

const parsed = (text: string): Condition => {
  const r = parseSegment(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.definition;
};

/** The interpreter's answer, after checking that the compiled predicate gives the same. */
const matches = (text: string, context: EvaluationContext): boolean => {
  const ast = parsed(text);
  const answer = evaluate(ast, context);
  expect(compilePredicate(ast)(context)).toBe(answer);
  return answer;
};

describe('computed conditions: text form', () => {
  it('parses computed(name) with a comparison into its own op', () => {
    expect(parseSegment(`computed('total_revenue') >= 100`)).toEqual({
      ok: true,
      definition: { op: 'computed', key: 'total_revenue', cmp: '>=', value: 100 },
    });
    expect(parseSegment(`COMPUTED("last_seen") < '2026-01-01' and trait('plan') = 'pro'`)).toEqual({
      ok: true,
      definition: {
        op: 'and',
        of: [
          { op: 'computed', key: 'last_seen', cmp: '<', value: '2026-01-01' },
          { op: 'trait', key: 'plan', cmp: '=', value: 'pro' },
        ],
      },
    });
  });

  it.each([
    [{ op: 'computed', key: 'total_revenue', cmp: '>', value: 500 }, `computed('total_revenue') > 500`],
    [{ op: 'computed', key: 'event_count', cmp: 'exists' }, `computed('event_count') exists`],
    [{ op: 'computed', key: 'tier', cmp: 'in', value: ['gold', null] }, `computed('tier') in ['gold', null]`],
    [{ op: 'computed', key: 'ref', cmp: 'matches', value: '^ab', flags: 'i' }, `computed('ref') matches '^ab' flags 'i'`],
    [{ op: 'not', of: { op: 'computed', key: "it's", cmp: '=', value: -0 } }, `not computed('it\\'s') = -0`],
  ] as [Condition, string][])('prints %j as %s, which parses back', (ast, text) => {
    expect(printSegment(ast)).toBe(text);
    expect(parseSegment(text)).toEqual({ ok: true, definition: ast });
  });

  it.each([
    [`computed(revenue) > 1`, 9, 'the computed trait name as a quoted string'],
    [`computed('') > 1`, 9, 'the computed trait name of 1 to'],
    [`computed('revenue') > true`, 22, 'a number or a string'],
    [`computed('revenue')`, 19, 'a comparison'],
    [`compute('revenue') > 1`, 0, "a condition: trait('...'), computed('...')"],
  ])('rejects %s at offset %i naming what was expected', expectSyntaxError);

  it('round-trips every generated computed condition', () => {
    fc.assert(fc.property(computed, (ast) => expect(parseSegment(printSegment(ast))).toEqual({ ok: true, definition: ast })));
  });
});

describe('computed conditions: evaluation', () => {
  const revenue = `computed('total_revenue') >= 100`;

  it('compares the computed trait, not a trait of the same name', () => {
    expect(matches(revenue, { traits: {}, computed: { total_revenue: 600 } })).toBe(true);
    expect(matches(revenue, { traits: {}, computed: { total_revenue: 100 } })).toBe(true);
    expect(matches(revenue, { traits: {}, computed: { total_revenue: 99.5 } })).toBe(false);
    expect(matches(revenue, { traits: { total_revenue: 600 }, computed: {} })).toBe(false);
    expect(matches(`trait('total_revenue') >= 100`, { traits: {}, computed: { total_revenue: 600 } })).toBe(false);
    // Like with like, as for traits: a numeric string is not a number.
    expect(matches(revenue, { traits: {}, computed: { total_revenue: '600' } })).toBe(false);
    expect(matches(`computed('first_seen') < '2026-01-01'`, { traits: {}, computed: { first_seen: '2025-06-01T10:00:00.000Z' } })).toBe(
      true,
    );
  });

  it('treats a missing computed trait (or no computed traits at all) like a missing trait', () => {
    for (const context of [{ traits: {} }, { traits: {}, computed: {} }, { traits: {}, computed: { other: 1 } }]) {
      expect(matches(revenue, context)).toBe(false);
      expect(matches(`computed('total_revenue') exists`, context)).toBe(false);
      expect(matches(`computed('total_revenue') = null`, context)).toBe(true);
      expect(matches(`computed('total_revenue') != 5`, context)).toBe(true);
      expect(matches(`computed('total_revenue') in [null]`, context)).toBe(true);
      expect(matches(`computed('constructor') exists`, context)).toBe(false);
    }
    expect(matches(`computed('first_seen') exists`, { traits: {}, computed: { first_seen: null } })).toBe(false);
  });

  it('gives the same answer as the trait condition on the same value (one comparison logic)', () => {
    fc.assert(
      fc.property(computed, profile, (c, p) => {
        const t = { ...(c as Extract<Condition, { op: 'computed' }>), op: 'trait' as const };
        const asTraits = { ...p, traits: p.computed ?? {} };
        expect(evaluate(c, p)).toBe(evaluate(t, asTraits));
      }),
    );
  });

  it('depends only on the computed traits it reads', () => {
    fc.assert(
      fc.property(condition, profile, profile, (x, p, q) => {
        const read = new Set(computedRead(x));
        const mixed: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(q.computed ?? {})) if (!read.has(k)) mixed[k] = v;
        for (const [k, v] of Object.entries(p.computed ?? {})) if (read.has(k)) mixed[k] = v;
        expect(evaluate(x, { ...p, computed: mixed })).toBe(evaluate(x, p));
      }),
    );
  });
});

describe('computed conditions: dependency index', () => {
  it('lists computed names apart from trait keys', () => {
    const ast = parsed(`computed('b') > 1 and (trait('b') exists or not computed('a') exists) and computed('b') < 9`);
    expect(computedRead(ast)).toEqual(['a', 'b']);
    expect(traitsRead(ast)).toEqual(['b']);
    const compiled = compileDefinition(ast);
    expect([...compiled.computed]).toEqual(['a', 'b']);
    expect(compiled.readsAny(['a'])).toBe(false);
    expect(compileDefinition(parsed(`trait('a') exists`)).computed.size).toBe(0);
  });
});

describe('computed conditions: validator and JSON Schema', () => {
  const schema = new Ajv({ allErrors: true, strict: false }).compile(SEGMENT_DEFINITION_SCHEMA);

  it('accepts a computed condition, as text and as AST', () => {
    const ast = { op: 'computed', key: 'total_revenue', cmp: '>', value: 500 };
    expect(validateDefinition(ast)).toEqual({ ok: true, definition: ast });
    expect(schema(ast)).toBe(true);
    expect(readDefinition(ast)).toEqual({ ok: true, definition: ast, text: `computed('total_revenue') > 500` });
  });

  it.each([
    [{ op: 'computed', key: '', cmp: '>', value: 1 }, ['$.key']],
    [{ op: 'computed', key: 'revenue', cmp: '~', value: 1 }, ['$.cmp']],
    [{ op: 'computed', key: 'revenue', cmp: '>', value: true }, ['$.value']],
    [{ op: 'computed', key: 'revenue', cmp: 'exists', value: 1 }, ['$.value']],
    [{ op: 'computed', key: 'revenue', cmp: '=', value: 1, flags: 'i' }, ['$.flags']],
    [{ op: 'computed', key: 'revenue', cmp: 'matches', value: '(a+)+' }, ['$.value']],
    [{ op: 'computed', key: 'revenue', cmp: '>', value: 1, name: 'x' }, ['$.name']],
    [{ op: 'not', of: { op: 'computed', key: 'revenue', cmp: 'in', value: 3 } }, ['$.of.value']],
  ])('refuses %j at %j', (input, paths) => {
    const r = validateDefinition(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(paths);
    // The schema agrees, but for pattern safety (a rule only the validator states).
    if (!('cmp' in input && input.cmp === 'matches')) expect(schema(input)).toBe(false);
  });
});
