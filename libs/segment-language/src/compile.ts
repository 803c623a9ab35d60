import {
  CONSENT_TRAIT,
  durationMs,
  type Condition,
  type EvaluationContext,
  type EventCondition,
  type PropertyFilter,
  type Scalar,
} from './ast';
import { consentGranted, ownValue, traitValue } from './evaluate';
import { patternTest } from '@cdp/safe-regex';

/** A compiled condition: the same answer as `evaluate`, with the per-node decisions taken once. */
export type Predicate = (context: EvaluationContext) => boolean;
type ValueTest = (actual: unknown) => boolean;

/**
 * Compiles a definition to nested closures: comparators, literals, `in` sets, windows and count
 * bounds are resolved once, so the hot path does no switching on the AST. Agrees with `evaluate`
 * on every context (property-tested); `evaluate` stays the readable reference.
 */
export function compilePredicate(condition: Condition): Predicate {
  switch (condition.op) {
    case 'and': {
      const parts = condition.of.map(compilePredicate);
      return (ctx) => {
        for (const p of parts) if (!p(ctx)) return false;
        return true;
      };
    }
    case 'or': {
      const parts = condition.of.map(compilePredicate);
      return (ctx) => {
        for (const p of parts) if (p(ctx)) return true;
        return false;
      };
    }
    case 'not': {
      const inner = compilePredicate(condition.of);
      return (ctx) => !inner(ctx);
    }
    case 'trait': {
      const { key } = condition;
      const test = compileValueTest(condition);
      return (ctx) => test(traitValue(ctx.traits, key));
    }
    case 'computed': {
      const { key } = condition;
      const test = compileValueTest(condition);
      return (ctx) => test(ownValue(ctx.computed, key));
    }
    case 'segment': {
      const id = condition.segment;
      return (ctx) => ctx.memberships?.has(id) ?? false;
    }
    case 'consent': {
      const category = condition.category;
      return (ctx) => consentGranted(Object.hasOwn(ctx.traits, CONSENT_TRAIT) ? ctx.traits[CONSENT_TRAIT] : undefined, category);
    }
    case 'event':
      return compileEvent(condition);
  }
}

function compileEvent(c: EventCondition): Predicate {
  const filters = (c.where ?? []).map((f) => ({ key: f.key, test: compileValueTest(f) }));
  const far = c.within ? durationMs(c.within) : c.between ? durationMs(c.between.from) : undefined;
  const near = c.between ? durationMs(c.between.to) : undefined;
  const { name } = c;
  const bound = c.count.value;
  const compare: (n: number) => boolean =
    c.count.cmp === '>='
      ? (n) => n >= bound
      : c.count.cmp === '<='
        ? (n) => n <= bound
        : c.count.cmp === '='
          ? (n) => n === bound
          : c.count.cmp === '>'
            ? (n) => n > bound
            : (n) => n < bound;
  return (ctx) => {
    const now = ctx.now;
    // A window with no evaluation time counts nothing.
    if (far !== undefined && now === undefined) return compare(0);
    let n = 0;
    for (const e of ctx.events ?? []) {
      if (e.name !== name) continue;
      if (far !== undefined) {
        const t = now as number;
        if (e.timestamp + far <= t) continue;
        if (near !== undefined && e.timestamp + near > t) continue;
      }
      let ok = true;
      for (const f of filters) {
        if (!f.test(Object.hasOwn(e.properties, f.key) ? e.properties[f.key] : undefined)) {
          ok = false;
          break;
        }
      }
      if (ok) n++;
    }
    return compare(n);
  };
}

/** The comparison of a trait or property value, as in `evaluate` (missing counts as null, like with like). */
function compileValueTest(c: Pick<PropertyFilter, 'cmp' | 'value' | 'flags'>): ValueTest {
  const v = c.value;
  switch (c.cmp) {
    case 'exists':
      return (a) => a !== undefined && a !== null;
    case '=':
    case '!=': {
      const eq: ValueTest = Array.isArray(v) ? () => false : equalsTo(v ?? null);
      return c.cmp === '=' ? eq : (a) => !eq(a);
    }
    case 'in': {
      if (!Array.isArray(v)) return () => false;
      // Set membership is === except for NaN, which === never matches: leave it out.
      const set = new Set<unknown>(v.filter((x) => !Number.isNaN(x)));
      const hasNull = set.has(null);
      return (a) => set.has(a) || (a === undefined && hasNull);
    }
    case 'contains':
      if (Array.isArray(v)) return () => false;
      if (typeof v === 'string') return (a) => (typeof a === 'string' ? a.includes(v) : Array.isArray(a) && a.some((x) => x === v));
      return (a) => Array.isArray(a) && a.some((x) => x === v);
    case 'starts_with':
      return typeof v === 'string' ? (a) => typeof a === 'string' && a.startsWith(v) : () => false;
    case 'matches':
      // The RegExp is built once here, not per value.
      return typeof v === 'string' ? patternTest(v, c.flags) : () => false;
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const holds: (d: number) => boolean =
        c.cmp === '<' ? (d) => d < 0 : c.cmp === '<=' ? (d) => d <= 0 : c.cmp === '>' ? (d) => d > 0 : (d) => d >= 0;
      if (typeof v === 'number') return (a) => typeof a === 'number' && !Number.isNaN(a - v) && holds(a - v);
      if (typeof v === 'string') return (a) => typeof a === 'string' && holds(a < v ? -1 : a > v ? 1 : 0);
      return () => false;
    }
  }
}

const equalsTo =
  (b: Scalar): ValueTest =>
  (a) =>
    a === b || (a === undefined && b === null);
