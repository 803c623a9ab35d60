/**
 * Safety of user-supplied regular expressions (segment `matches` conditions, blocked identifier
 * values). They run on every profile change or every identifier, so a pattern is accepted only if
 * its worst case is provably small. Backtracking cost grows with the
 * product of the choices a match can take, so we bound that product structurally (conservative on
 * purpose: some harmless patterns are refused too):
 *  - refused outright: back-references, lookbehind, a group that holds a quantifier or an
 *    alternation repeated more than once, even a fixed count (`(a+)+`, `(a*)*`, `(a|a)*`: exponential;
 *    `(a*b*){3}`, `(a|b){8}`; `(a|b)?` is fine), flags other than `i`;
 *  - "long" repeats (`*`, `+`, `{n,}`, `{n,m}` with m - n > 16) give up to N choices each, and so
 *    does a pattern not anchored with a leading `^` (the engine retries at every offset): at most 2
 *    in all, so the worst case is about N^2 steps (`a*a*a*b` on 256 characters takes seconds);
 *  - "short" choices (`?`, `{n,m}` with m - n <= 16, an alternation of k branches) multiply: at most 32,
 *    and none at all next to 2 long repeats (`^a?a*a*b` is N^2 times 2).
 * N is `PATTERN_LIMITS.maxInput`: only the first N characters of a value are tested.
 */

export const PATTERN_LIMITS = {
  maxLength: 200,
  /** Only this many leading characters of a trait or property value are tested. */
  maxInput: 512,
  maxLongRepeats: 2,
  maxShortChoices: 32,
  /** A counted repeat spanning more than this many counts is a long repeat. */
  shortSpan: 16,
} as const;

export const PATTERN_FLAGS = ['i'] as const;
export type PatternFlags = (typeof PATTERN_FLAGS)[number];

/** A pattern problem: the offset (0-based, in the pattern) where it is and what is wrong. */
export interface PatternProblem {
  offset: number;
  message: string;
}

interface Group {
  /** Offset of the `(`. */
  start: number;
  /** Holds a quantifier or an alternation (a choice point). */
  choices: boolean;
  branches: number;
}

/** Why a pattern is refused, or null. */
export function patternProblem(source: string, flags?: string): PatternProblem | null {
  if (source.length === 0) return { offset: 0, message: 'is empty' };
  if (source.length > PATTERN_LIMITS.maxLength)
    return { offset: PATTERN_LIMITS.maxLength, message: `is longer than ${PATTERN_LIMITS.maxLength} characters` };
  if (flags !== undefined && !(PATTERN_FLAGS as readonly string[]).includes(flags))
    return { offset: 0, message: `flags must be ${PATTERN_FLAGS.map((f) => `"${f}"`).join(' or ')} (or absent)` };
  try {
    new RegExp(source, flags);
  } catch (e) {
    return { offset: 0, message: `is not a valid regular expression (${e instanceof Error ? e.message : String(e)})` };
  }
  let long = source.startsWith('^') ? 0 : 1;
  let short = 1;
  const stack: Group[] = [{ start: -1, choices: false, branches: 1 }];
  const top = (): Group => stack[stack.length - 1] as Group;
  const budget = (at: number): PatternProblem | null => {
    if (long > PATTERN_LIMITS.maxLongRepeats)
      return {
        offset: at,
        message: `has more than ${PATTERN_LIMITS.maxLongRepeats} unbounded repeats (counting an unanchored start, no leading ^), which can backtrack polynomially`,
      };
    if (short > PATTERN_LIMITS.maxShortChoices)
      return { offset: at, message: `has more than ${PATTERN_LIMITS.maxShortChoices} combinations of optional parts and alternatives` };
    if (long === PATTERN_LIMITS.maxLongRepeats && short > 1)
      return {
        offset: at,
        message: `combines ${PATTERN_LIMITS.maxLongRepeats} unbounded repeats (counting an unanchored start) with optional parts or alternatives, which can backtrack polynomially`,
      };
    return null;
  };
  // The quantifier at `at`, if any: its length, how many choices it gives (0: none, Infinity: long)
  // and whether it can repeat its atom (a fixed `{3}` repeats without choosing).
  const quantifierAt = (at: number): { length: number; choices: number; repeats: boolean } | null => {
    const c = source[at];
    const lazy = (n: number) => (source[at + n] === '?' ? n + 1 : n);
    if (c === '*' || c === '+') return { length: lazy(1), choices: Infinity, repeats: true };
    if (c === '?') return { length: lazy(1), choices: 2, repeats: false };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at));
      if (!m) return null;
      const lower = Number(m[1]);
      const upper = m[2] === undefined ? lower : m[3] === '' ? Infinity : Number(m[3]);
      const span = upper - lower;
      return {
        length: lazy(m[0].length),
        choices: span === 0 ? 0 : span > PATTERN_LIMITS.shortSpan ? Infinity : span + 1,
        repeats: upper > 1,
      };
    }
    return null;
  };
  const quantify = (at: number, group: Group | null): { length: number; problem: PatternProblem | null } => {
    const q = quantifierAt(at);
    if (!q) return { length: 0, problem: null };
    // Any count above one, fixed too: (a*b*){3} is a*b*a*b*a*b*, (a|b){8} has 256 combinations. An optional group is fine.
    if (group && group.choices && q.repeats)
      return {
        length: q.length,
        problem: {
          offset: group.start,
          message: 'repeats a group that holds a repeat or an alternation (like (a+)+ or (a|ab)*), which can backtrack catastrophically',
        },
      };
    if (q.choices === Infinity) long++;
    else if (q.choices > 0) short *= q.choices;
    if (q.choices > 0) top().choices = true;
    return { length: q.length, problem: budget(at) };
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    let group: Group | null = null;
    if (c === '\\') {
      if (/[1-9k]/.test(source[i + 1] ?? '')) return { offset: i, message: 'uses a back-reference, which can backtrack catastrophically' };
      i += 2;
    } else if (c === '[') {
      // A character class is one atom: skip to its unescaped closing bracket.
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      if (/^\(\?<[=!]/.test(source.slice(i))) return { offset: i, message: 'uses a lookbehind, which is not supported in patterns' };
      stack.push({ start: i, choices: false, branches: 1 });
      i++;
      // Skip the group's prefix (?: (?= (?! (?<name>) so that its '?' is not read as a quantifier.
      const prefix = /^\?(?::|=|!|<[A-Za-z_$][\w$]*>)/.exec(source.slice(i));
      if (prefix) i += prefix[0].length;
      continue;
    } else if (c === ')') {
      group = stack.length > 1 ? (stack.pop() as Group) : top();
      if (group.branches > 1) {
        short *= group.branches;
        group.choices = true;
        const over = budget(group.start);
        if (over) return over;
      }
      if (group.choices) top().choices = true;
      i++;
    } else if (c === '|') {
      top().branches++;
      i++;
      continue;
    } else {
      i++;
    }
    // The atom just read (escape, class, group or character) may carry a quantifier.
    const q = quantify(i, group);
    if (q.problem) return q.problem;
    i += q.length;
  }
  const outer = stack[0] as Group;
  if (outer.branches > 1) {
    short *= outer.branches;
    // A leading ^ anchors only the first branch of a top-level alternation.
    if (source.startsWith('^')) long++;
    return budget(0);
  }
  return null;
}

/**
 * The test of a `matches` condition: a string value whose first `maxInput` characters match. Total:
 * a pattern that is not a valid regular expression (an AST that skipped validation) matches nothing.
 */
export function patternTest(pattern: string, flags?: string): (actual: unknown) => boolean {
  let re: RegExp;
  try {
    // Never 'g' or 'y': test() must not keep state between values.
    re = new RegExp(pattern, flags === 'i' ? 'i' : '');
  } catch {
    return () => false;
  }
  return (a) => typeof a === 'string' && re.test(a.length > PATTERN_LIMITS.maxInput ? a.slice(0, PATTERN_LIMITS.maxInput) : a);
}
