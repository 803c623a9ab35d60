/**
 * The segment definition AST, stored and exchanged as JSON.
 *
 * A discriminated union on `op`. New condition kinds (event counts in a window, membership of
 * another segment, consent) are added as new `op` variants, so every definition stored today
 * stays valid and means the same thing.
 */

/** A literal a trait is compared with. */
export type Scalar = string | number | boolean | null;

export const COMPARATORS = ['=', '!=', '<', '<=', '>', '>=', 'contains', 'starts_with', 'in', 'exists'] as const;
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

/** A condition on one profile trait. `value` is absent for `exists`, a list for `in`. */
export interface TraitCondition {
  op: 'trait';
  key: string;
  cmp: Comparator;
  value?: Scalar | Scalar[];
}

export type Condition = AndCondition | OrCondition | NotCondition | TraitCondition;
export type ConditionOp = Condition['op'];

/** What a definition is evaluated against. Later: the profile's events, memberships, consents. */
export interface EvaluationContext {
  traits: Record<string, unknown>;
}

/** Limits that keep evaluation, parsing and storage bounded (stack depth, document size). */
export const Limits = {
  maxDepth: 32,
  maxNodes: 500,
  maxKeyLength: 256,
  maxStringLength: 1_000,
  maxListLength: 500,
  maxTextLength: 20_000,
} as const;
