import { DEFAULT_IDENTITY_RULES, type IdentityRules } from '@cdp/identity-graph';
import { effectiveFuzzy, type EffectiveFuzzyRules, type FuzzyRulesInput } from './fuzzy-rules';

/**
 * Per-workspace identity rules as the API and the store see them. Pure functions, so the
 * validation and the merge with the defaults are tested without Nest or MongoDB.
 */

/** A limit: a plain maximum, or a maximum over a time window (e.g. `30d`). */
export type LimitSetting = number | { max: number; window?: string };

/** What a workspace sets; every omitted field takes the default (limits are merged per type). */
export interface IdentityRulesInput {
  priority?: string[];
  limits?: Record<string, LimitSetting>;
  defaultLimit?: number;
  blocked?: { values?: string[]; patterns?: string[] };
  /** Probabilistic matching (`fuzzy-rules.ts`); omitted settings take the defaults. */
  fuzzy?: FuzzyRulesInput;
}

/** The effective rules of a workspace, as GET answers them. */
export interface EffectiveIdentityRules {
  priority: string[];
  limits: Record<string, LimitSetting>;
  defaultLimit: number;
  blocked: { values: string[]; patterns: string[] };
  fuzzy: EffectiveFuzzyRules;
}

export const RULE_BOUNDS = {
  maxTypes: 64,
  maxLimit: 10_000,
  maxBlockedValues: 1000,
  maxBlockedValueLength: 512,
  maxPatterns: 50,
  maxPatternLength: 200,
  /** Ten years, in the window's own units. */
  maxWindowDays: 3650,
} as const;

const WINDOW = /^([1-9][0-9]{0,6})(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `15m`, `12h`, `30d` -> milliseconds; undefined if malformed or longer than ten years. */
export function parseWindow(text: string): number | undefined {
  const match = WINDOW.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms <= RULE_BOUNDS.maxWindowDays * UNIT_MS.d ? ms : undefined;
}

/** Why a limit setting is not valid, or null. */
export function limitProblem(setting: unknown): string | null {
  const maxOk = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= RULE_BOUNDS.maxLimit;
  if (typeof setting === 'number') return maxOk(setting) ? null : `must be an integer from 1 to ${RULE_BOUNDS.maxLimit}`;
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting))
    return 'must be a number or {"max": <number>, "window": "<n>m|h|d"}';
  const extra = Object.keys(setting).filter((k) => k !== 'max' && k !== 'window');
  if (extra.length > 0) return `has unknown field "${extra[0]}" (allowed: max, window)`;
  const { max, window } = setting as { max?: unknown; window?: unknown };
  if (!maxOk(max)) return `.max must be an integer from 1 to ${RULE_BOUNDS.maxLimit}`;
  if (window !== undefined && (typeof window !== 'string' || parseWindow(window) === undefined))
    return `.window must be a duration like 15m, 12h or 30d (at most ${RULE_BOUNDS.maxWindowDays}d)`;
  return null;
}

/**
 * Why a blocked-value pattern is refused, or null. Patterns are tested against every identifier
 * of every event, so besides syntax we refuse the shapes that backtrack exponentially: a repeat
 * inside a repeat (`(a+)+`, `(\w*x?)*`), an alternation under a repeat (`(a|ab)*`) and
 * back-references. This is conservative (it also refuses some harmless patterns) on purpose.
 */
export function regexProblem(source: string): string | null {
  if (source.length === 0) return 'is empty';
  if (source.length > RULE_BOUNDS.maxPatternLength) return `is longer than ${RULE_BOUNDS.maxPatternLength} characters`;
  try {
    new RegExp(source);
  } catch (e) {
    return `is not a valid regular expression (${e instanceof Error ? e.message : String(e)})`;
  }
  interface Group {
    repeats: boolean;
    alternates: boolean;
  }
  const stack: Group[] = [{ repeats: false, alternates: false }];
  let i = 0;
  // The quantifier at position `at`, if any: its length and whether it is unbounded or repeats more than once.
  const quantifierAt = (at: number): { length: number; repeats: boolean } | null => {
    const c = source[at];
    if (c === '*' || c === '+') return { length: source[at + 1] === '?' ? 2 : 1, repeats: true };
    if (c === '?') return { length: source[at + 1] === '?' ? 2 : 1, repeats: false };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}\??/.exec(source.slice(at));
      if (!m) return null;
      const upper = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
      return { length: m[0].length, repeats: upper > 1 };
    }
    return null;
  };
  const top = (): Group => stack[stack.length - 1] as Group;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === '\\') {
      if (/[1-9k]/.test(source[i + 1] ?? '')) return 'uses a back-reference, which can backtrack catastrophically';
      i += 2;
    } else if (c === '[') {
      // A character class is one atom; skip to its unescaped closing bracket.
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      stack.push({ repeats: false, alternates: false });
      i++;
      // Skip the group's prefix (?: (?= (?! (?<= (?<! (?<name>) so its '?' is not read as a quantifier.
      const prefix = /^\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(source.slice(i));
      if (prefix) i += prefix[0].length;
      continue;
    } else if (c === ')') {
      const group = stack.length > 1 ? (stack.pop() as Group) : top();
      i++;
      const q = quantifierAt(i);
      if (q) {
        i += q.length;
        if (q.repeats && group.repeats) return 'nests a repeat inside a repeat (like (a+)+), which can backtrack catastrophically';
        if (q.repeats && group.alternates) return 'repeats an alternation (like (a|ab)*), which can backtrack catastrophically';
      }
      const outer = top();
      outer.repeats ||= group.repeats || (q?.repeats ?? false);
      continue;
    } else if (c === '|') {
      top().alternates = true;
      i++;
      continue;
    } else {
      i++;
    }
    // The atom just read (escape, class or character) may carry a quantifier.
    const q = quantifierAt(i);
    if (q) {
      i += q.length;
      if (q.repeats) top().repeats = true;
    }
  }
  return null;
}

/** Problems of a whole input, each naming its field; empty when valid. Mirrors the DTO's checks for callers without Nest. */
export function patternProblems(patterns: readonly string[]): string[] {
  return patterns.flatMap((p, i) => {
    const problem = regexProblem(p);
    return problem ? [`blocked.patterns[${i}] ${JSON.stringify(p)} ${problem}`] : [];
  });
}

/** The effective rules: each field the workspace set replaces the default; limits are merged per type. */
export function withDefaults(
  input: IdentityRulesInput | null | undefined,
  defaults: IdentityRules = DEFAULT_IDENTITY_RULES,
): EffectiveIdentityRules {
  const set = input ?? {};
  return {
    priority: [...(set.priority ?? defaults.priority)],
    limits: { ...defaults.limits, ...(set.limits ?? {}) },
    defaultLimit: set.defaultLimit ?? defaults.defaultLimit,
    blocked: {
      values: [...(set.blocked?.values ?? defaults.blocked.values)],
      patterns: [...(set.blocked?.patterns ?? defaults.blocked.patterns)],
    },
    fuzzy: effectiveFuzzy(set.fuzzy),
  };
}

/** A limit counted over a sliding window of event time: at most `max` identifiers of the type within any `windowMs`. */
export interface LimitWindow {
  max: number;
  windowMs: number;
}

/**
 * The rules the resolver applies: the flat-matching rules of `@cdp/identity-graph`, where a
 * windowed type has no lifetime limit, plus its window (enforced by `decideWithinWindows`).
 */
export interface ResolverRules extends IdentityRules {
  windows?: Record<string, LimitWindow>;
}

export function toResolverRules(rules: EffectiveIdentityRules): ResolverRules {
  const limits: Record<string, number> = {};
  const windows: Record<string, LimitWindow> = {};
  for (const [type, l] of Object.entries(rules.limits)) {
    const windowMs = typeof l === 'number' || l.window === undefined ? undefined : parseWindow(l.window);
    if (typeof l === 'number') limits[type] = l;
    else if (windowMs === undefined) limits[type] = l.max;
    else {
      limits[type] = Number.POSITIVE_INFINITY;
      windows[type] = { max: l.max, windowMs };
    }
  }
  return { priority: rules.priority, limits, defaultLimit: rules.defaultLimit, blocked: rules.blocked, windows };
}
