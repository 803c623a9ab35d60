import {
  CONSENT_TRAIT,
  durationMs,
  type Condition,
  type EventCondition,
  type EvaluationContext,
  type PropertyFilter,
  type ProfileEvent,
  type Scalar,
} from './ast';
import { PATTERN_LIMITS } from '@cdp/safe-regex';

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
    case 'computed':
      return matchValue(
        condition,
        condition.op === 'trait' ? traitValue(context.traits, condition.key) : ownValue(context.computed, condition.key),
      );
    case 'event':
      return compareCount(condition.count.cmp, countEvents(condition, context), condition.count.value);
    case 'segment':
      return context.memberships?.has(condition.segment) ?? false;
    case 'consent':
      return consentGranted(Object.hasOwn(context.traits, CONSENT_TRAIT) ? context.traits[CONSENT_TRAIT] : undefined, condition.category);
  }
}

/** A record's own value at `key` (never an inherited one like `constructor`); undefined when missing, or when there is no record. */
export const ownValue = (record: Record<string, unknown> | undefined, key: string): unknown =>
  record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;

/**
 * A trait's value: the trait named `key`, else, for a dotted key, the path into object traits
 * (`address.city` in `{address: {city}}`: the normalizer gathers city, postal code and street
 * there). Stored trait names never contain a '.', so a dotted key can only mean a path.
 */
export function traitValue(traits: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(traits, key) || !key.includes('.')) return ownValue(traits, key);
  let value: unknown = traits;
  for (const part of key.split('.')) value = isObject(value) ? ownValue(value, part) : undefined;
  return value;
}

/** The trait a key reads: `address` for `address.city` (what a profile change names as changed). */
export const topLevelTrait = (key: string): string => key.split('.', 1)[0] ?? key;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a `consent` trait value grants the category (see ConsentCondition). */
export function consentGranted(consent: unknown, category: string): boolean {
  if (!isObject(consent)) return false;
  if (Object.hasOwn(consent, category) && consent[category] === true) return true;
  const prefs = consent['categoryPreferences'];
  return isObject(prefs) && Object.hasOwn(prefs, category) && prefs[category] === true;
}

/** A window as ages in ms: an event counts while `near <= now - timestamp < far` (no `near`: any age below `far`). */
interface WindowMs {
  far: number;
  near?: number;
}

const windowOf = (c: EventCondition): WindowMs | undefined =>
  c.within ? { far: durationMs(c.within) } : c.between ? { far: durationMs(c.between.from), near: durationMs(c.between.to) } : undefined;

/** Name and property filters: whether the event can count at all, whatever the time. */
const selected = (c: EventCondition, e: ProfileEvent): boolean =>
  e.name === c.name && (c.where ?? []).every((f) => matchValue(f, Object.hasOwn(e.properties, f.key) ? e.properties[f.key] : undefined));

/**
 * An event is in a window at `now` while `timestamp + far > now` (it leaves at exactly
 * `timestamp + far`) and, for a between-window, `timestamp + near <= now` (it enters at exactly
 * `timestamp + near`).
 */
function inWindow(w: WindowMs | undefined, e: ProfileEvent, now: number | undefined): boolean {
  if (w === undefined) return true;
  if (now === undefined || e.timestamp + w.far <= now) return false;
  return w.near === undefined || e.timestamp + w.near <= now;
}

function counted(c: EventCondition, e: ProfileEvent, now: number | undefined): boolean {
  return selected(c, e) && inWindow(windowOf(c), e, now);
}

function countEvents(c: EventCondition, context: EvaluationContext): number {
  let n = 0;
  for (const e of context.events ?? []) if (counted(c, e, context.now)) n++;
  return n;
}

function compareCount(cmp: EventCondition['count']['cmp'], actual: number, bound: number): boolean {
  switch (cmp) {
    case '>=':
      return actual >= bound;
    case '<=':
      return actual <= bound;
    case '=':
      return actual === bound;
    case '>':
      return actual > bound;
    case '<':
      return actual < bound;
  }
}

/**
 * The next moment after `context.now` at which the result can change with no new data: the
 * earliest time a selected event enters (between-windows) or leaves its window. Null when nothing
 * is windowed or no event will ever cross an edge.
 */
export function nextChangeAt(condition: Condition, context: EvaluationContext): number | null {
  const now = context.now;
  if (now === undefined) return null;
  let next: number | null = null;
  const consider = (edge: number) => {
    if (edge > now && (next === null || edge < next)) next = edge;
  };
  walk(condition, (c) => {
    if (c.op !== 'event') return;
    const w = windowOf(c);
    if (w === undefined) return;
    for (const e of context.events ?? []) {
      if (!selected(c, e)) continue;
      consider(e.timestamp + w.far);
      if (w.near !== undefined) consider(e.timestamp + w.near);
    }
  });
  return next;
}

function walk(condition: Condition, visit: (c: Condition) => void): void {
  visit(condition);
  if (condition.op === 'not') walk(condition.of, visit);
  else if (condition.op === 'and' || condition.op === 'or') condition.of.forEach((c) => walk(c, visit));
}

/** The event names a definition reads, sorted. */
export function eventsRead(condition: Condition): string[] {
  const names = new Set<string>();
  walk(condition, (c) => {
    if (c.op === 'event') names.add(c.name);
  });
  return [...names].sort();
}

/** The segment ids a definition reads, sorted. */
export function segmentsRead(condition: Condition): string[] {
  const ids = new Set<string>();
  walk(condition, (c) => {
    if (c.op === 'segment') ids.add(c.segment);
  });
  return [...ids].sort();
}

/** Whether any event condition has a window (its result can change with time alone). */
export function hasWindow(condition: Condition): boolean {
  let found = false;
  walk(condition, (c) => {
    if (c.op === 'event' && (c.within || c.between)) found = true;
  });
  return found;
}

/**
 * A segment that reaches itself through segment conditions, or null. `readsOf(id)` gives the
 * segment ids a stored definition reads (empty for unknown ids).
 */
export function findCycle(start: string, reads: readonly string[], readsOf: (id: string) => readonly string[]): string[] | null {
  const path: string[] = [start];
  const done = new Set<string>();
  const visit = (ids: readonly string[]): string[] | null => {
    for (const id of ids) {
      if (id === start) return [...path, id];
      if (done.has(id) || path.includes(id)) continue;
      path.push(id);
      const found = visit(readsOf(id));
      path.pop();
      if (found) return found;
      done.add(id);
    }
    return null;
  };
  return visit(reads);
}

const equals = (a: unknown, b: Scalar): boolean => a === b || (a === undefined && b === null);

function order(actual: unknown, expected: Scalar | Scalar[] | undefined): number | undefined {
  // Only like with like: numbers numerically, strings by code unit (ISO dates sort correctly).
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected;
  if (typeof actual === 'string' && typeof expected === 'string') return actual < expected ? -1 : actual > expected ? 1 : 0;
  return undefined;
}

/** A `matches` test, straightforwardly: a string whose first `maxInput` characters match; an invalid pattern matches nothing. */
function matchesPattern(pattern: unknown, flags: string | undefined, actual: unknown): boolean {
  if (typeof actual !== 'string' || typeof pattern !== 'string') return false;
  let re: RegExp;
  try {
    re = new RegExp(pattern, flags === 'i' ? 'i' : '');
  } catch {
    return false;
  }
  return re.test(actual.slice(0, PATTERN_LIMITS.maxInput));
}

function matchValue(c: Pick<PropertyFilter, 'cmp' | 'value' | 'flags'>, actual: unknown): boolean {
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
    case 'matches':
      return matchesPattern(v, c.flags, actual);
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

/** The consent categories a definition reads, sorted. */
export function consentsRead(condition: Condition): string[] {
  const categories = new Set<string>();
  walk(condition, (c) => {
    if (c.op === 'consent') categories.add(c.category);
  });
  return [...categories].sort();
}

/**
 * The computed trait names a definition reads, sorted. The profile-store does not say which computed
 * traits changed, so a service re-evaluates such a definition on every profile change.
 */
export function computedRead(condition: Condition): string[] {
  const names = new Set<string>();
  walk(condition, (c) => {
    if (c.op === 'computed') names.add(c.key);
  });
  return [...names].sort();
}

/**
 * The trait keys a definition reads, sorted (consent conditions read the `consent` trait). A profile change needs this definition
 * re-evaluated only when one of these keys changed.
 */
export function traitsRead(condition: Condition): string[] {
  const keys = new Set<string>();
  walk(condition, (c) => {
    if (c.op === 'trait') keys.add(c.key);
    else if (c.op === 'consent') keys.add(CONSENT_TRAIT);
  });
  return [...keys].sort();
}
