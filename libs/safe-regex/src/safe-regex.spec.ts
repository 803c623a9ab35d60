import fc from 'fast-check';
import { patternProblem, patternTest } from './index';

describe('patternProblem', () => {
  it.each([
    ['(a+)+', 'repeats a group'],
    ['(a*)*b', 'repeats a group'],
    ['(a|a)*', 'repeats a group'],
    ['(?:x|xy){2,}', 'repeats a group'],
    ['(\\w+\\.)+com', 'repeats a group'],
    ['^(?:a*b*){3}c', 'repeats a group'],
    ['^(a|b){8}c', 'repeats a group'],
    ['(a)\\1', 'back-reference'],
    ['(?<n>a)\\k<n>', 'back-reference'],
    ['(?<=@)acme', 'lookbehind'],
    ['(?<!x)acme', 'lookbehind'],
    ['a*a*b', 'unbounded repeats'],
    ['^\\w+\\w+\\w+$', 'unbounded repeats'],
    ['.*.*x', 'unbounded repeats'],
    ['^a?a*a*b', 'combines'],
    ['a?a?a?a?a?a?aaaaaa', 'combinations'],
    ['[', 'not a valid regular expression'],
    ['a'.repeat(201), 'longer than 200'],
  ])('refuses %s', (pattern, message) => {
    expect(patternProblem(pattern)?.message).toContain(message);
  });

  it.each([
    '@acme\\.com$',
    '^[^@]+@[^.]+\\.com$',
    '^https?://[^/]+',
    '(gmail|yahoo|outlook)\\.com$',
    '^\\d{5}$',
    '^(ab){3}c',
    '^(a|b)?c',
    '[(+*]',
    '\\(a+\\)',
  ])('accepts %s', (pattern) => expect(patternProblem(pattern)).toBeNull());

  it('refuses flags other than i', () => {
    expect(patternProblem('a', 'g')?.message).toContain('flags');
    expect(patternProblem('a', 'i')).toBeNull();
  });

  it('never throws on arbitrary text, and what it accepts runs fast on hostile input', () => {
    const hostile = ['a', 'x', '@', '.', '0'].map((c) => `${c.repeat(5_000)}!`);
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'x', '(', ')', '*', '+', '?', '|', '.', '^', '{2,}', '{3}', '\\w', '[a]'), maxLength: 12 }),
        (p) => {
          if (patternProblem(p) !== null) return;
          const test = patternTest(p);
          const started = performance.now();
          for (const s of hostile) test(s);
          // Generous for a shared machine; a catastrophic pattern takes seconds.
          expect(performance.now() - started).toBeLessThan(2_000);
        },
      ),
      { numRuns: 300 },
    );
  });
});
