import type { Condition, EvaluationContext, Scalar, TraitCondition } from './ast';

/**
 * Whether a profile matches a definition. Total: any trait value (missing, object, wrong type)
 * gives true or false, never an error. A missing trait is treated as null: it matches `= null`,
 * `in [null]` and `!=` a non-null value, so `x != v` is always the same as `not x = v`.
 */
export function evaluate(condition: Condition, context: EvaluationContext): boolean {
  switch (condition.op) {
    case 'and':
      return condition.of.every((c) => evaluate(c, context));
    case 'or':
      return condition.of.some((c) => evaluate(c, context));
    case 'not':
      return !evaluate(condition.of, context);
    case 'trait':
      return matchTrait(condition, Object.hasOwn(context.traits, condition.key) ? context.traits[condition.key] : undefined);
  }
}

const equals = (a: unknown, b: Scalar): boolean => a === b || (a === undefined && b === null);

function order(actual: unknown, expected: Scalar | Scalar[] | undefined): number | undefined {
  // Only like with like: numbers numerically, strings by code unit (ISO dates sort correctly).
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected;
  if (typeof actual === 'string' && typeof expected === 'string') return actual < expected ? -1 : actual > expected ? 1 : 0;
  return undefined;
}

function matchTrait(c: TraitCondition, actual: unknown): boolean {
  const v = c.value;
  switch (c.cmp) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case '=':
      return !Array.isArray(v) && equals(actual, v ?? null);
    case '!=':
      return !(!Array.isArray(v) && equals(actual, v ?? null));
    case 'in':
      return Array.isArray(v) && v.some((x) => equals(actual, x));
    case 'contains':
      if (typeof actual === 'string' && typeof v === 'string') return actual.includes(v);
      return Array.isArray(actual) && !Array.isArray(v) && actual.some((x) => x === v);
    case 'starts_with':
      return typeof actual === 'string' && typeof v === 'string' && actual.startsWith(v);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const d = order(actual, v);
      if (d === undefined || Number.isNaN(d)) return false;
      return c.cmp === '<' ? d < 0 : c.cmp === '<=' ? d <= 0 : c.cmp === '>' ? d > 0 : d >= 0;
    }
  }
}

/**
 * The trait keys a definition reads, sorted. A profile change needs this definition
 * re-evaluated only when one of these keys changed.
 */
export function traitsRead(condition: Condition): string[] {
  const keys = new Set<string>();
  const walk = (c: Condition): void => {
    if (c.op === 'trait') keys.add(c.key);
    else if (c.op === 'not') walk(c.of);
    else c.of.forEach(walk);
  };
  walk(condition);
  return [...keys].sort();
}
