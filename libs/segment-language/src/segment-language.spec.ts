import fc from 'fast-check';
import { Limits, durationMs, type Condition, type EventCondition } from './ast';
import { compilePredicate } from './compile';
import { compileDefinition, readDefinition } from './definition';
import { evaluate, topLevelTrait, traitsRead } from './evaluate';
import { parseSegment, printSegment } from './text';
import { validateDefinition } from './validate';
import { condition, event, key, NOW, profile, scalar, expectSyntaxError } from './test-arbitraries';

describe('text form', () => {
  it('round-trips: parse(print(ast)) deep-equals ast', () => {
    fc.assert(
      fc.property(condition, (ast) => {
        const parsed = parseSegment(printSegment(ast));
        expect(parsed).toEqual({ ok: true, definition: ast });
      }),
      { numRuns: 500 },
    );
  });

  it('prints what it parses, canonically (print . parse is idempotent)', () => {
    fc.assert(
      fc.property(condition, (ast) => {
        const text = printSegment(ast);
        const again = parseSegment(text);
        expect(again.ok && printSegment(again.definition)).toBe(text);
      }),
    );
  });

  it('parses the documented example with the right precedence', () => {
    const result = parseSegment(`trait('country') = 'DE' and (trait('plan') in ['pro','team'] or not trait('age') < 18)`);
    expect(result).toEqual({
      ok: true,
      definition: {
        op: 'and',
        of: [
          { op: 'trait', key: 'country', cmp: '=', value: 'DE' },
          {
            op: 'or',
            of: [
              { op: 'trait', key: 'plan', cmp: 'in', value: ['pro', 'team'] },
              { op: 'not', of: { op: 'trait', key: 'age', cmp: '<', value: 18 } },
            ],
          },
        ],
      },
    });
  });

  it('binds and tighter than or, keywords case-insensitive', () => {
    const r = parseSegment(`trait('a') exists OR trait('b') exists AND trait('c') exists`);
    expect(r.ok && r.definition.op).toBe('or');
    expect(r.ok && r.definition.op === 'or' && r.definition.of[1]?.op).toBe('and');
  });

  it('reads escapes and double quotes', () => {
    expect(parseSegment(`trait("it's") = 'a\\'b\\u0041'`)).toEqual({
      ok: true,
      definition: { op: 'trait', key: "it's", cmp: '=', value: "a'bA" },
    });
  });

  it.each([
    [`trait('country') = `, 19, 'a value'],
    [`trait('country') == 'DE'`, 17, "'=' (equality is a single '=')"],
    [`trait('a') exists && trait('b') exists`, 18, "'and'"],
    [`trait('a') exists || trait('b') exists`, 18, "'or'"],
    [`!trait('a') exists`, 0, "'not' (or '!=')"],
    [`trait(\u2018country\u2019) = 'DE'`, 6, 'a straight quote'],
    [`event('E').where(property('a') = 1 or property('b') = 2)`, 35, "filters in where are joined with 'and'"],
    [`trait('a') != 'x' and`, 21, 'a condition'],
    [`trait('country') 'DE'`, 17, 'a comparison'],
    [`trait(country) = 'DE'`, 6, 'the trait key as a quoted string'],
    [`trait('a') exists and`, 21, 'a condition'],
    [`(trait('a') exists`, 18, "')'"],
    [`trait('a') exists trait('b') exists`, 18, "'and', 'or' or the end"],
    [`trait('a') = 'unterminated`, 26, 'a closing'],
    [`trait('a') < true`, 13, 'a number or a string'],
    [`trait('a') in ['x' 'y']`, 19, "',' or ']'"],
    [`trait('a') = #`, 13, 'a condition, a value or punctuation'],
  ])('rejects %s at offset %i naming what was expected', expectSyntaxError);

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    const r = parseSegment(`${'not '.repeat(Limits.maxDepth + 5)}trait('a') exists`);
    expect(r.ok).toBe(false);
    expect(parseSegment(`${'('.repeat(10_000)}trait('a') exists${')'.repeat(10_000)}`).ok).toBe(false);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (s) => expect(typeof parseSegment(s).ok).toBe('boolean')));
  });
});

describe('validateDefinition', () => {
  it('accepts every generated AST unchanged', () => {
    fc.assert(fc.property(condition, (ast) => expect(validateDefinition(ast)).toEqual({ ok: true, definition: ast })));
  });

  it('reports each problem with its path', () => {
    const r = validateDefinition({
      op: 'and',
      of: [
        { op: 'trait', key: '', cmp: '=', value: 1 },
        { op: 'trait', key: 'a', cmp: 'like', value: 'x' },
        { op: 'or', of: [] },
        { op: 'nope' },
      ],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues.map((i) => i.path)).toEqual(['$.of[0].key', '$.of[1].cmp', '$.of[2].of', '$.of[3].op']);
    }
  });

  it.each([
    [{ op: 'trait', key: 'a', cmp: 'exists', value: 1 }, '$.value', 'takes no value'],
    [{ op: 'trait', key: 'a', cmp: '=' }, '$.value', 'needs a value'],
    [{ op: 'trait', key: 'a', cmp: 'in', value: 'x' }, '$.value', 'needs a list'],
    [{ op: 'trait', key: 'a', cmp: 'in', value: [1, {}] }, '$.value', 'item 1'],
    [{ op: 'trait', key: 'a', cmp: '<', value: true }, '$.value', 'finite number or a string'],
    [{ op: 'trait', key: 'a', cmp: '=', value: Number.NaN }, '$.value', 'finite number'],
    [{ op: 'not', of: { op: 'trait', key: 'a', cmp: 'exists' }, extra: 1 }, '$.extra', 'is not a field'],
    [{ op: 'not', of: 'x' }, '$.of', 'must be an object'],
    ['x', '$', 'must be an object'],
  ])('rejects %j at %s', (input, path, message) => {
    const r = validateDefinition(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])('refuses op %s (a key of every object) without throwing', (op) => {
    const r = validateDefinition({ op, key: 'k', cmp: '=', value: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.path).toBe('$.op');
  });

  it('never throws on any JSON, whatever its op', () => {
    const op = fc.oneof(fc.string(), fc.constantFrom('toString', 'valueOf', 'constructor', '__proto__', 'trait', 'event'));
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), op, (node, o) => void validateDefinition({ ...node, op: o })));
  });

  it('refuses too deep an AST', () => {
    let deep: unknown = { op: 'trait', key: 'a', cmp: 'exists' };
    for (let i = 0; i < 100; i++) deep = { op: 'not', of: deep };
    expect(validateDefinition(deep).ok).toBe(false);
  });
});

describe('evaluate', () => {
  it('not x is the negation of x', () => {
    fc.assert(fc.property(condition, profile, (x, p) => expect(evaluate({ op: 'not', of: x }, p)).toBe(!evaluate(x, p))));
  });

  it('and/or follow boolean algebra (commutative, De Morgan, distributive)', () => {
    fc.assert(
      fc.property(condition, condition, condition, profile, (a, b, c, p) => {
        const ev = (x: Condition) => evaluate(x, p);
        expect(ev({ op: 'and', of: [a, b] })).toBe(ev(a) && ev(b));
        expect(ev({ op: 'or', of: [a, b] })).toBe(ev(a) || ev(b));
        expect(ev({ op: 'and', of: [a, b] })).toBe(ev({ op: 'and', of: [b, a] }));
        expect(ev({ op: 'not', of: { op: 'or', of: [a, b] } })).toBe(
          ev({
            op: 'and',
            of: [
              { op: 'not', of: a },
              { op: 'not', of: b },
            ],
          }),
        );
        expect(ev({ op: 'and', of: [a, { op: 'or', of: [b, c] }] })).toBe(
          ev({
            op: 'or',
            of: [
              { op: 'and', of: [a, b] },
              { op: 'and', of: [a, c] },
            ],
          }),
        );
      }),
    );
  });

  it('x != v is exactly not (x = v)', () => {
    fc.assert(
      fc.property(key, scalar, profile, (k, v, p) =>
        expect(evaluate({ op: 'trait', key: k, cmp: '!=', value: v }, p)).toBe(!evaluate({ op: 'trait', key: k, cmp: '=', value: v }, p)),
      ),
    );
  });

  it('depends only on the traits it reads', () => {
    fc.assert(
      fc.property(condition, profile, profile, (x, p, q) => {
        // A key reads its own trait and, as a path, its top-level one.
        const read = new Set(traitsRead(x).flatMap((k) => [k, topLevelTrait(k)]));
        // q's unread traits replace p's: the result must not move.
        const mixed: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(q.traits)) if (!read.has(k)) mixed[k] = v;
        for (const [k, v] of Object.entries(p.traits)) if (read.has(k)) mixed[k] = v;
        expect(evaluate(x, { ...p, traits: mixed })).toBe(evaluate(x, p));
      }),
    );
  });

  const matches = (text: string, traits: Record<string, unknown>) => {
    const r = parseSegment(text);
    if (!r.ok) throw new Error(r.error.message);
    return evaluate(r.definition, { traits });
  };

  it('matches the documented example', () => {
    const text = `trait('country') = 'DE' and (trait('plan') in ['pro','team'] or not trait('age') < 18)`;
    expect(matches(text, { country: 'DE', plan: 'pro', age: 12 })).toBe(true);
    expect(matches(text, { country: 'DE', plan: 'free', age: 30 })).toBe(true);
    expect(matches(text, { country: 'DE', plan: 'free', age: 12 })).toBe(false);
    expect(matches(text, { country: 'FR', plan: 'pro' })).toBe(false);
  });

  it('compares like with like only', () => {
    expect(matches(`trait('age') >= 18`, { age: 18 })).toBe(true);
    expect(matches(`trait('age') >= 18`, { age: '18' })).toBe(false);
    expect(matches(`trait('since') < '2024-01-01'`, { since: '2023-12-31T10:00:00Z' })).toBe(true);
    expect(matches(`trait('email') contains '@acme'`, { email: 'jo@acme.com' })).toBe(true);
    expect(matches(`trait('tags') contains 'vip'`, { tags: ['new', 'vip'] })).toBe(true);
    expect(matches(`trait('email') starts_with 'jo'`, { email: 'jo@acme.com' })).toBe(true);
    expect(matches(`trait('email') exists`, { email: null })).toBe(false);
    expect(matches(`trait('country') != 'DE'`, {})).toBe(true);
    expect(matches(`trait('constructor') exists`, {})).toBe(false);
  });

  it('reads a dotted key as a path into object traits (the address the normalizer gathers)', () => {
    const traits = { address: { city: 'Hamburg', postalCode: '20095' }, country: 'DE' };
    expect(matches(`trait('address.city') = 'Hamburg'`, traits)).toBe(true);
    expect(matches(`trait('address.postalCode') starts_with '200'`, traits)).toBe(true);
    expect(matches(`trait('address.street') exists`, traits)).toBe(false);
    expect(matches(`trait('country.code') exists`, traits)).toBe(false);
    expect(matches(`trait('address.constructor') exists`, traits)).toBe(false);
    const r = parseSegment(`trait('address.city') = 'Hamburg'`);
    expect(r.ok && compileDefinition(r.definition).readsAny(['address'])).toBe(true);
  });
});

describe('compilePredicate', () => {
  it('agrees with the interpreter on random definitions and profiles (with and without an evaluation time)', () => {
    fc.assert(
      fc.property(condition, profile, fc.boolean(), (x, p, timeless) => {
        const ctx = timeless ? { ...p, now: undefined } : p;
        expect(compilePredicate(x)(ctx)).toBe(evaluate(x, ctx));
        expect(compileDefinition(x).matches(ctx)).toBe(evaluate(x, ctx));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the interpreter on events exactly at, and next to, the edges of their window', () => {
    const edged = event.chain((c) => {
      const e = c as EventCondition;
      const edges = [e.within, e.between?.from, e.between?.to].flatMap((d) => (d ? [durationMs(d)] : [0]));
      const at = fc.tuple(fc.constantFrom(...edges), fc.constantFrom(-1, 0, 1)).map(([edge, by]) => NOW - edge + by);
      const ev = fc.record({ name: fc.constant(e.name), timestamp: at, properties: fc.constant({}) });
      return fc.tuple(fc.constant(c), fc.array(ev, { maxLength: 4 }));
    });
    fc.assert(
      fc.property(edged, ([c, events]) => {
        const ctx = { traits: {}, events, now: NOW };
        expect(compilePredicate(c)(ctx)).toBe(evaluate(c, ctx));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('traitsRead and compileDefinition', () => {
  it('lists each key read once, sorted', () => {
    const r = parseSegment(`trait('b') = 1 and (trait('a') exists or not trait('b') < 3)`);
    expect(r.ok && traitsRead(r.definition)).toEqual(['a', 'b']);
  });

  it('readsAny is true exactly when a changed key is read', () => {
    fc.assert(
      fc.property(condition, fc.array(key, { maxLength: 4 }), (x, changed) => {
        const read = traitsRead(x).flatMap((k) => [k, topLevelTrait(k)]);
        expect(compileDefinition(x).readsAny(changed)).toBe(changed.some((k) => read.includes(k)));
      }),
    );
  });
});

describe('readDefinition', () => {
  it('accepts text and AST alike, giving both forms', () => {
    const fromText = readDefinition(`trait('plan') in ['pro', 'team']`);
    expect(fromText).toEqual({
      ok: true,
      definition: { op: 'trait', key: 'plan', cmp: 'in', value: ['pro', 'team'] },
      text: `trait('plan') in ['pro', 'team']`,
    });
    expect(fromText.ok && readDefinition(fromText.definition)).toEqual(fromText);
  });

  it('gives the parser offset or the validator paths', () => {
    expect(readDefinition(`trait('a') =`)).toMatchObject({ ok: false, offset: 12 });
    expect(readDefinition({ op: 'or' })).toMatchObject({ ok: false, message: expect.stringContaining('$.of') });
  });
});
