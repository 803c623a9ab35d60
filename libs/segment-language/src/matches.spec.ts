import fc from 'fast-check';
import type { Condition } from './ast';
import { compilePredicate } from './compile';
import { readDefinition } from './definition';
import { evaluate } from './evaluate';
import { PATTERN_LIMITS } from '@cdp/safe-regex';
import { parseSegment, printSegment } from './text';
import { validateDefinition } from './validate';
import { safePattern, expectSyntaxError } from './test-arbitraries';

const parse = (text: string): Condition => {
  const r = parseSegment(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.definition;
};

/** Both evaluators, which must agree, on a trait condition. */
const both = (c: Condition, traits: Record<string, unknown>): boolean => {
  const a = evaluate(c, { traits });
  expect(compilePredicate(c)({ traits })).toBe(a);
  return a;
};

describe('matches: text form and AST', () => {
  it('parses the issue example into the AST and prints it back', () => {
    const text = `trait('email') matches '@acme\\\\.com$'`;
    const ast = parse(text);
    expect(ast).toEqual({ op: 'trait', key: 'email', cmp: 'matches', value: '@acme\\.com$' });
    expect(printSegment(ast)).toBe(text);
    expect(validateDefinition(ast)).toEqual({ ok: true, definition: ast });
  });

  it('reads flags and property filters', () => {
    const ast = parse(`event('Signed Up').where(property('email') matches '@ACME\\\\.com$' flags 'i') and trait('plan') matches '^pro'`);
    expect(ast).toEqual({
      op: 'and',
      of: [
        {
          op: 'event',
          name: 'Signed Up',
          where: [{ key: 'email', cmp: 'matches', value: '@ACME\\.com$', flags: 'i' }],
          count: { cmp: '>=', value: 1 },
        },
        { op: 'trait', key: 'plan', cmp: 'matches', value: '^pro' },
      ],
    });
    expect(parse(printSegment(ast))).toEqual(ast);
  });

  it('round-trips every generated pattern, with and without flags', () => {
    fc.assert(
      fc.property(safePattern, fc.boolean(), (value, i) => {
        const ast: Condition = { op: 'trait', key: 'k', cmp: 'matches', value, ...(i ? { flags: 'i' as const } : {}) };
        expect(parseSegment(printSegment(ast))).toEqual({ ok: true, definition: ast });
        expect(validateDefinition(ast)).toEqual({ ok: true, definition: ast });
      }),
    );
  });

  it.each([
    [`trait('e') matches 5`, 19, 'a regular expression as a quoted string'],
    [`trait('e') matches 'a' flags 'g'`, 29, "'i' (case-insensitive)"],
    [`trait('e') matches '(a+)+$'`, 19, 'repeats a group'],
    [`trait('e') matches '(a'`, 19, 'not a valid regular expression'],
    [`trait('e') matches ''`, 19, 'is empty'],
  ])('rejects %s at offset %i naming what was expected', expectSyntaxError);

  it.each([
    [{ op: 'trait', key: 'a', cmp: 'matches' }, '$.value', 'needs a value'],
    [{ op: 'trait', key: 'a', cmp: 'matches', value: 3 }, '$.value', 'needs a regular expression'],
    [{ op: 'trait', key: 'a', cmp: 'matches', value: '(a|ab)*' }, '$.value', 'repeats a group'],
    [{ op: 'trait', key: 'a', cmp: 'matches', value: 'x', flags: 'g' }, '$.flags', 'must be "i"'],
    [{ op: 'trait', key: 'a', cmp: '=', value: 'x', flags: 'i' }, '$.flags', 'only a "matches"'],
    [
      { op: 'event', name: 'A', where: [{ key: 'p', cmp: 'matches', value: 'a'.repeat(201) }], count: { cmp: '>=', value: 1 } },
      '$.where[0].value',
      'longer than 200',
    ],
  ])('the validator rejects %j at %s', (input, path, message) => {
    const r = validateDefinition(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('readDefinition gives the offset of a dangerous pattern in text and the path in an AST', () => {
    expect(readDefinition(`trait('a') exists and trait('e') matches '(\\\\w+)*@'`)).toMatchObject({ ok: false, offset: 41 });
    expect(readDefinition({ op: 'not', of: { op: 'trait', key: 'e', cmp: 'matches', value: '(a*)*' } })).toMatchObject({
      ok: false,
      message: expect.stringContaining('$.of.value: the pattern repeats a group'),
    });
  });
});

describe('matches: evaluation', () => {
  const m = (pattern: string, flags?: 'i'): Condition => ({
    op: 'trait',
    key: 'email',
    cmp: 'matches',
    value: pattern,
    ...(flags ? { flags } : {}),
  });

  it('matches strings only, case-sensitively unless flags is i', () => {
    expect(both(m('@acme\\.com$'), { email: 'jo@acme.com' })).toBe(true);
    expect(both(m('@acme\\.com$'), { email: 'jo@acme.com.evil' })).toBe(false);
    expect(both(m('@acme\\.com$'), { email: 'JO@ACME.COM' })).toBe(false);
    expect(both(m('@acme\\.com$', 'i'), { email: 'JO@ACME.COM' })).toBe(true);
    expect(both(m('1'), { email: 1 })).toBe(false);
    expect(both(m('^$'), {})).toBe(false);
    expect(both(m('a'), { email: ['a'] })).toBe(false);
  });

  it(`tests only the first ${PATTERN_LIMITS.maxInput} characters of a value`, () => {
    const pad = 'x'.repeat(PATTERN_LIMITS.maxInput - 9);
    expect(both(m('@acme\\.com'), { email: `${pad}@acme.com` })).toBe(true);
    expect(both(m('@acme\\.com'), { email: `${pad}x@acme.com` })).toBe(false);
  });

  it('an invalid pattern that skipped validation matches nothing instead of throwing', () => {
    expect(both(m('('), { email: '(' })).toBe(false);
  });
});
