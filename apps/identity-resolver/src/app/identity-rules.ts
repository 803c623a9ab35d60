import { DEFAULT_IDENTITY_RULES, type IdentityRules } from '@cdp/identity-graph';
import { patternProblem } from '@cdp/safe-regex';
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
  maxIdentifiers?: number;
  maxMerges?: number;
  blocked?: { values?: string[]; patterns?: string[] };
  /** Probabilistic matching (`fuzzy-rules.ts`); omitted settings take the defaults. */
  fuzzy?: FuzzyRulesInput;
}

/** The effective rules of a workspace, as GET answers them. */
export interface EffectiveIdentityRules {
  priority: string[];
  limits: Record<string, LimitSetting>;
  defaultLimit: number;
  maxIdentifiers: number;
  maxMerges: number;
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

/** Milliseconds as the rules write a window: in the largest of d, h, m that divides them. */
export function formatWindow(ms: number): string {
  const unit = (['d', 'h', 'm'] as const).find((u) => ms % UNIT_MS[u] === 0) ?? 'm';
  return `${Math.round(ms / UNIT_MS[unit])}${unit}`;
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
 * Why a blocked-value pattern is refused, or null. Patterns are tested against every identifier of
 * every event, so they pass the shared backtracking bound (@cdp/safe-regex: no nested or polynomial
 * backtracking, no back-references, no lookbehind).
 */
export function regexProblem(source: string): string | null {
  if (source.length > RULE_BOUNDS.maxPatternLength) return `is longer than ${RULE_BOUNDS.maxPatternLength} characters`;
  const problem = patternProblem(source);
  return problem ? `${problem.message} (at offset ${problem.offset})` : null;
}

/** Problems of a whole input, each naming its field; empty when valid. Mirrors the DTO's checks for callers without Nest. */
export function patternProblems(patterns: readonly string[]): string[] {
  return patterns.flatMap((p, i) => {
    const problem = regexProblem(p);
    return problem ? [`blocked.patterns[${i}] ${JSON.stringify(p)} ${problem}`] : [];
  });
}

/**
 * What a change should be told besides the rules: the defaults its blocked lists leave out. A list
 * replaces the default one, so blocking one more value would quietly unblock `null`, `undefined`, ...
 */
export function rulesWarnings(input: IdentityRulesInput, defaults: IdentityRules = DEFAULT_IDENTITY_RULES): string[] {
  const dropped = (field: 'values' | 'patterns', same: (a: string, b: string) => boolean): string[] => {
    const given = input.blocked?.[field];
    if (given === undefined) return [];
    const gone = defaults.blocked[field].filter((d) => !given.some((g) => same(g, d)));
    if (gone.length === 0) return [];
    const [is, them] = gone.length === 1 ? ['is', 'it'] : ['are', 'them'];
    const listed = gone.map((d) => JSON.stringify(d)).join(', ');
    return [`blocked.${field} replaces the default list: ${listed} ${is} no longer blocked (list ${them} too to keep ${them})`];
  };
  return [...dropped('values', (a, b) => a.trim().toLowerCase() === b.trim().toLowerCase()), ...dropped('patterns', (a, b) => a === b)];
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
    maxIdentifiers: set.maxIdentifiers ?? defaults.maxIdentifiers,
    maxMerges: set.maxMerges ?? defaults.maxMerges,
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
  // A pattern stored before the current safety bound was accepted is not run (the API refuses it now).
  const blocked = { ...rules.blocked, patterns: rules.blocked.patterns.filter((p) => regexProblem(p) === null) };
  const { priority, defaultLimit, maxIdentifiers, maxMerges } = rules;
  return { priority, limits, defaultLimit, maxIdentifiers, maxMerges, blocked, windows };
}
