import 'reflect-metadata';
import fc from 'fast-check';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { blockedValueTest, DEFAULT_IDENTITY_RULES, limitOf } from '@cdp/identity-graph';
import { formatWindow, parseWindow, regexProblem, rulesWarnings, toResolverRules, withDefaults } from './identity-rules';
import { IdentityRulesDto } from './identity-rules.dto';

/** The messages as Nest's ValidationPipe reports them: nested ones prefixed with their parent's name. */
const problems = (body: unknown): string[] => {
  const flatten = (errors: ValidationError[], parent = ''): string[] =>
    errors.flatMap((e) => [
      ...Object.values(e.constraints ?? {}).map((m) => (parent ? `${parent}.${m}` : m)),
      ...flatten(e.children ?? [], parent ? `${parent}.${e.property}` : e.property),
    ]);
  return flatten(validateSync(plainToInstance(IdentityRulesDto, body), { whitelist: true, forbidNonWhitelisted: true }));
};

describe('identity rules validation', () => {
  it('accepts a full, sensible body and an empty one', () => {
    expect(
      problems({
        priority: ['user_id', 'email', 'crm_id'],
        limits: { email: 3, phone: { max: 2, window: '30d' }, crm_id: { max: 1 } },
        defaultLimit: 10,
        blocked: { values: ['test@test.com'], patterns: ['^[0-]*$', '^test\\d+@example\\.com$', '(abc)+', '^(?:x|y)?z+'] },
      }),
    ).toEqual([]);
    expect(problems({})).toEqual([]);
  });

  it.each([
    [{ priority: ['email', 'email'] }, 'priority must not name a type twice'],
    [{ priority: ['E.mail'] }, 'each type in priority may only contain'],
    [{ limits: { email: 0 } }, 'limits.email must be an integer from 1 to 10000'],
    [{ limits: { email: { max: 2, window: '3 weeks' } } }, 'limits.email.window must be a duration like 15m, 12h or 30d'],
    [{ limits: { email: { max: 2, every: '3d' } } }, 'limits.email has unknown field "every"'],
    [{ limits: { 'a.b': 1 } }, 'limits has an invalid identifier type "a.b"'],
    [{ limits: [1] }, 'limits must be an object'],
    [{ defaultLimit: 1.5 }, 'defaultLimit must be an integer'],
    [{ blocked: { values: [''] } }, 'blocked.each of values must be 1 to 512 characters'],
    [{ blocked: { patterns: ['ok', '(unclosed'] } }, 'blocked.patterns[1] "(unclosed" is not a valid regular expression'],
    [{ blocked: { patterns: ['^(a+)+$'] } }, 'blocked.patterns[0] "^(a+)+$" repeats a group that holds a repeat'],
    [{ blocked: { patterns: ['^(a|ab)*$'] } }, 'blocked.patterns[0] "^(a|ab)*$" repeats a group that holds a repeat or an alternation'],
    [{ blocked: { patterns: ['(\\w)\\1+'] } }, 'back-reference'],
    [{ blocked: { patterns: ['a*a*a*b'] } }, 'blocked.patterns[0] "a*a*a*b" has more than 2 unbounded repeats'],
    [{ blocked: { other: 1 } }, 'blocked.property other should not exist'],
    [{ fuzzy: true }, 'fuzzy must be an object'],
    [{ fuzzy: { reviewThreshold: 30 } }, 'fuzzy.reviewThreshold: must not exceed autoMergeThreshold'],
    [{ colour: 'red' }, 'property colour should not exist'],
  ])('refuses %j naming the field', (body, message) => {
    expect(problems(body).join('\n')).toContain(message);
  });
});

describe('regexProblem', () => {
  it.each(['^(\\d+)*$', '((ab)*)+', '(x+x+)+y', '(.*a){12}', '(?:[a-z]+\\s?)+$', '(?<w>a*)+', 'a*a*a*b', '.*.*.*x', '\\w+\\w+\\w+\\w+!'])(
    'refuses the catastrophic %s',
    (p) => {
      expect(regexProblem(p)).not.toBeNull();
    },
  );

  it.each(['^[0-]*$', '^(null|none)$', '^[(+*)]+$', '^\\(a+\\)+', 'a{2,3}b?', '(ab){3}', '(?=a+)b', '^test@'])(
    'accepts the harmless %s',
    (p) => {
      expect(regexProblem(p)).toBeNull();
    },
  );

  it('refuses over-long patterns', () => {
    expect(regexProblem('a'.repeat(201))).toContain('longer than 200');
  });
});

describe('withDefaults', () => {
  it('is the defaults when nothing is stored', () => {
    expect(toResolverRules(withDefaults(null))).toEqual({ ...DEFAULT_IDENTITY_RULES, windows: {} });
  });

  it('replaces the fields given, keeps the others, and merges limits per type', () => {
    const rules = withDefaults({ limits: { email: 1, phone: { max: 2, window: '7d' } }, blocked: { values: [] } });
    expect(rules.priority).toEqual(DEFAULT_IDENTITY_RULES.priority);
    expect(rules.limits).toEqual({ user_id: 1, email: 1, phone: { max: 2, window: '7d' } });
    expect(rules.blocked).toEqual({ values: [], patterns: DEFAULT_IDENTITY_RULES.blocked.patterns });
    const resolver = toResolverRules(rules);
    // A windowed type has no lifetime limit: its window is enforced instead.
    expect([limitOf(resolver, 'user_id'), limitOf(resolver, 'email'), limitOf(resolver, 'phone'), limitOf(resolver, 'x')]).toEqual([
      1,
      1,
      Number.POSITIVE_INFINITY,
      5,
    ]);
    expect(resolver.windows).toEqual({ phone: { max: 2, windowMs: 7 * 86_400_000 } });
    // {max} without a window is a lifetime limit.
    expect(limitOf(toResolverRules(withDefaults({ limits: { crm: { max: 3 } } })), 'crm')).toBe(3);
    // No blocked values any more, the default pattern still applies.
    expect(blockedValueTest(resolver)('null')).toBe(false);
    expect(blockedValueTest(resolver)('000')).toBe(true);
  });

  it('does not share arrays with the defaults', () => {
    withDefaults({}).priority.push('x');
    expect(DEFAULT_IDENTITY_RULES.priority).not.toContain('x');
  });
});

describe('rulesWarnings', () => {
  it('names the default blocked values and patterns a new list leaves out', () => {
    expect(rulesWarnings({ limits: { email: 3 } })).toEqual([]);
    expect(rulesWarnings({ blocked: { values: ['test@example.com', ' NULL ', '-1', 'anonymous'] } })).toEqual([
      'blocked.values replaces the default list: "undefined", "[object Object]" are no longer blocked (list them too to keep them)',
    ]);
    expect(rulesWarnings({ blocked: { patterns: [] } })).toEqual([
      'blocked.patterns replaces the default list: "^[0-]*$" is no longer blocked (list it too to keep it)',
    ]);
    const kept = { values: [...DEFAULT_IDENTITY_RULES.blocked.values, 'x'], patterns: [...DEFAULT_IDENTITY_RULES.blocked.patterns] };
    expect(rulesWarnings({ blocked: kept })).toEqual([]);
  });
});

describe('formatWindow', () => {
  it('writes back what parseWindow reads, in the largest whole unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3650 }), fc.constantFrom('m', 'h', 'd'), (n, unit) => {
        const ms = parseWindow(`${n}${unit}`) as number;
        expect(parseWindow(formatWindow(ms))).toBe(ms);
      }),
    );
    expect([formatWindow(90 * 60_000), formatWindow(48 * 3_600_000), formatWindow(30 * 86_400_000)]).toEqual(['90m', '2d', '30d']);
  });
});

describe('parseWindow', () => {
  it('reads minutes, hours and days up to ten years', () => {
    expect([parseWindow('15m'), parseWindow('12h'), parseWindow('30d')]).toEqual([900_000, 43_200_000, 2_592_000_000]);
    expect([parseWindow('0d'), parseWindow('3651d'), parseWindow('1w'), parseWindow('01d')]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('toResolverRules', () => {
  it('does not run a stored pattern that the safety bound refuses now', () => {
    const rules = toResolverRules(withDefaults({ blocked: { patterns: ['^test@', 'a*a*a*b'] } }));
    expect(rules.blocked.patterns).toEqual(['^test@']);
  });
});
