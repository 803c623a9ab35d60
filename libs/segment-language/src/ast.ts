/**
 * The segment definition AST, stored and exchanged as JSON.
 *
 * A discriminated union on `op`. New condition kinds (event counts in a window, membership of
 * another segment, consent) were added as new `op` variants, so every definition stored today
 * stays valid and means the same thing.
 */

/** A literal a trait is compared with. */
export type Scalar = string | number | boolean | null;

export const COMPARATORS = ['=', '!=', '<', '<=', '>', '>=', 'contains', 'starts_with', 'in', 'exists', 'matches'] as const;
export type Comparator = (typeof COMPARATORS)[number];

export interface AndCondition {
  op: 'and';
  of: Condition[];
}

export interface OrCondition {
  op: 'or';
  of: Condition[];
}

export interface NotCondition {
  op: 'not';
  of: Condition;
}

/**
 * A condition on one profile trait. `value` is absent for `exists`, a list for `in`, a regular
 * expression (see @cdp/safe-regex for what is accepted) for `matches`. `flags` is only for `matches`:
 * `i` (case-insensitive) or absent.
 */
export interface TraitCondition {
  op: 'trait';
  key: string;
  cmp: Comparator;
  value?: Scalar | Scalar[];
  flags?: 'i';
}

/**
 * A condition on one computed trait of the profile (built-ins like `first_seen`, `event_count`,
 * `revenue`, or a workspace's own), read from `EvaluationContext.computed`. Same comparators and
 * value rules as a trait condition; a missing computed trait is treated like a missing trait.
 */
export interface ComputedCondition {
  op: 'computed';
  key: string;
  cmp: Comparator;
  value?: Scalar | Scalar[];
  flags?: 'i';
}

/** A filter on one property of an event; same comparators and value rules as a trait condition. */
export interface PropertyFilter {
  key: string;
  cmp: Comparator;
  value?: Scalar | Scalar[];
  flags?: 'i';
}

export const COUNT_COMPARATORS = ['>=', '<=', '=', '>', '<'] as const;
export type CountComparator = (typeof COUNT_COMPARATORS)[number];

export const WINDOW_UNITS = ['minutes', 'hours', 'days'] as const;
export type WindowUnit = (typeof WINDOW_UNITS)[number];

/** A length of time, e.g. 30 days. */
export interface Duration {
  amount: number;
  unit: WindowUnit;
}

/**
 * "performed `name` (where all `where` filters hold) `count.cmp` `count.value` times (in the last
 * `within`, or `between` two relative times)". Without a window every stored event counts.
 * `where` is absent when empty; `within` and `between` are never both present.
 * `between: {from: 60 days, to: 30 days}` counts events at least 30 and less than 60 days old;
 * `from` is always the longer ago.
 */
export interface EventCondition {
  op: 'event';
  name: string;
  where?: PropertyFilter[];
  within?: Duration;
  between?: { from: Duration; to: Duration };
  count: { cmp: CountComparator; value: number };
}

/** Membership of another segment, by id (the service resolves names to ids when it stores a definition). */
export interface SegmentCondition {
  op: 'segment';
  segment: string;
}

/**
 * The profile's consent grants `category`. Consent reaches the segmenter only as profile traits
 * (cdp.profiles.changes.v1), so it is read from the `consent` trait: an object of category ->
 * true, either directly (`{"marketing": true}`) or as Segment's consent object
 * (`{"categoryPreferences": {"marketing": true}}`). Anything but `true` is no consent.
 */
export interface ConsentCondition {
  op: 'consent';
  category: string;
}

/** The trait consent conditions read (a change of it re-evaluates them). */
export const CONSENT_TRAIT = 'consent';

export type Condition =
  | AndCondition
  | OrCondition
  | NotCondition
  | TraitCondition
  | ComputedCondition
  | EventCondition
  | SegmentCondition
  | ConsentCondition;
export type ConditionOp = Condition['op'];

/** One event of the profile, as event conditions see it. */
export interface ProfileEvent {
  name: string;
  /** Epoch milliseconds. */
  timestamp: number;
  properties: Record<string, unknown>;
}

/**
 * What a definition is evaluated against. Computed traits, events, memberships and `now` are needed
 * only by computed/event/segment conditions.
 */
export interface EvaluationContext {
  traits: Record<string, unknown>;
  /** The profile's computed traits; missing means none (a missing computed trait reads like a missing trait). */
  computed?: Record<string, unknown>;
  /** The profile's events (any order); missing means none. */
  events?: readonly ProfileEvent[];
  /** Ids of the segments the profile is currently a member of. */
  memberships?: ReadonlySet<string>;
  /** Evaluation time (epoch ms) for windows; missing means windows are empty. */
  now?: number;
}

export const WINDOW_UNIT_MS: Record<WindowUnit, number> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 };

export const durationMs = (d: Duration): number => d.amount * WINDOW_UNIT_MS[d.unit];

/** Limits that keep evaluation, parsing and storage bounded (stack depth, document size). */
export const Limits = {
  maxDepth: 32,
  maxNodes: 500,
  maxKeyLength: 256,
  maxStringLength: 1_000,
  maxListLength: 500,
  maxTextLength: 20_000,
  maxFilters: 20,
  /** Counts and window amounts are integers in [0, this]. */
  maxCount: 1_000_000,
} as const;
