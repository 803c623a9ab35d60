import { createHash } from 'node:crypto';
import { parseJsonObject, type JsonValue } from '@cdp/profile-model';

/**
 * User-defined computed traits: an aggregation of one event property (or a count of events) over
 * all time or a sliding window of whole days. State is kept per profile as buckets (one per UTC
 * day of the event timestamp, or one `all` bucket), so a window slides by dropping old buckets,
 * never by rescanning the timeline, and merges add buckets together. Pure: no I/O.
 */
export const AGGREGATIONS = ['count', 'sum', 'min', 'max', 'average', 'first', 'last', 'most_frequent', 'distinct_count'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface ComputedTraitDefinition {
  name: string;
  /** The track event name the trait aggregates. */
  event: string;
  /** The property aggregated (top level of `properties`); not needed for count. */
  property: string | null;
  aggregation: Aggregation;
  /** Window in days (the current UTC day and the days before it), or null for all time. */
  windowDays: number | null;
}

/** Distinct values kept per bucket for most_frequent and distinct_count; beyond it new values are not counted. */
export const MAX_DISTINCT_VALUES = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Bucket {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  /** Earliest and latest value by event timestamp (ties: by messageId), as JSON text (any value can be stored). */
  first: { t: number; m: string; j: string } | null;
  last: { t: number; m: string; j: string } | null;
  /** Occurrences by value (key: base64url of the value's JSON, safe as a field name). */
  values: Record<string, number>;
}

/** A trait's state: buckets by UTC day number, or `all`. */
export type TraitState = Record<string, Bucket>;
/** A profile's states by state key (see stateKey). */
export type TraitStates = Record<string, TraitState>;

/**
 * Where a definition's state lives: its name and a fingerprint of what it aggregates, so a
 * redefined trait starts from scratch instead of reading buckets built for another meaning.
 */
export function stateKey(def: ComputedTraitDefinition): string {
  const what = JSON.stringify([def.event, def.property, def.aggregation, def.windowDays]);
  return `${def.name}_${createHash('sha256').update(what).digest('hex').slice(0, 12)}`;
}

const emptyBucket = (): Bucket => ({ count: 0, sum: 0, min: null, max: null, first: null, last: null, values: {} });

const needsNumber = (a: Aggregation): boolean => a === 'sum' || a === 'min' || a === 'max' || a === 'average';
const needsValues = (a: Aggregation): boolean => a === 'most_frequent' || a === 'distinct_count';

export const valueKey = (v: JsonValue): string => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
const keyValue = (k: string): JsonValue => JSON.parse(Buffer.from(k, 'base64url').toString('utf8')) as JsonValue;

const dayOf = (t: number): number => Math.floor(t / DAY_MS);
const bucketKey = (def: ComputedTraitDefinition, t: number): string => (def.windowDays === null ? 'all' : String(dayOf(t)));

const earlier = (a: { t: number; m: string }, b: { t: number; m: string }): boolean => a.t < b.t || (a.t === b.t && a.m < b.m);

/** Adds one observation to a bucket (a new object; the input is not changed). */
function observe(b: Bucket, def: ComputedTraitDefinition, t: number, m: string, v: JsonValue): Bucket {
  const next: Bucket = { ...b, count: b.count + 1 };
  if (typeof v === 'number') {
    next.sum = b.sum + v;
    next.min = b.min === null ? v : Math.min(b.min, v);
    next.max = b.max === null ? v : Math.max(b.max, v);
  }
  const point = { t, m, j: JSON.stringify(v) };
  if (!b.first || earlier(point, b.first)) next.first = point;
  if (!b.last || earlier(b.last, point)) next.last = point;
  if (needsValues(def.aggregation)) {
    const k = valueKey(v);
    if (k in b.values || Object.keys(b.values).length < MAX_DISTINCT_VALUES) next.values = { ...b.values, [k]: (b.values[k] ?? 0) + 1 };
  }
  return next;
}

/** Two buckets of the same key added together (merges). */
export function addBuckets(a: Bucket, b: Bucket): Bucket {
  const values = { ...a.values };
  for (const [k, n] of Object.entries(b.values)) {
    if (k in values || Object.keys(values).length < MAX_DISTINCT_VALUES) values[k] = (values[k] ?? 0) + n;
  }
  const pick = (x: Bucket['first'], y: Bucket['first'], firstWins: boolean) => (!x ? y : !y ? x : earlier(x, y) === firstWins ? x : y);
  return {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
    first: pick(a.first, b.first, true),
    last: pick(a.last, b.last, false),
    values,
  };
}

/** Buckets a window no longer reaches at `now` (kept: the current day and windowDays - 1 before it). */
function prune(state: TraitState, def: ComputedTraitDefinition, now: number): TraitState {
  if (def.windowDays === null) return state;
  const oldest = dayOf(now) - def.windowDays + 1;
  return Object.fromEntries(Object.entries(state).filter(([k]) => Number(k) >= oldest));
}

/** The value an event contributes, or undefined when it does not count for this trait. */
export function contribution(
  def: ComputedTraitDefinition,
  event: { type: string; event: string | null; properties: string | null },
): JsonValue | undefined {
  if (event.type !== 'track' || event.event !== def.event) return undefined;
  if (def.aggregation === 'count') return null;
  if (def.property === null) return undefined;
  const v = parseJsonObject(event.properties)[def.property];
  if (v === undefined || v === null) return undefined;
  if (needsNumber(def.aggregation)) return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  return v;
}

/** Applies one (not yet applied) event to the states of every definition. */
export function applyToStates(
  states: TraitStates,
  defs: readonly ComputedTraitDefinition[],
  event: { type: string; event: string | null; properties: string | null; timestamp: number; messageId: string },
  now: number,
): { states: TraitStates; changed: string[] } {
  // Only the states of the current definitions are kept (a deleted or redefined trait's go).
  const keys = new Set(defs.map(stateKey));
  let next: TraitStates = Object.fromEntries(Object.entries(states).filter(([k]) => keys.has(k)));
  const changed: string[] = [];
  for (const def of defs) {
    const v = contribution(def, event);
    if (v === undefined) continue;
    // An event older than the window counts for nothing now.
    if (def.windowDays !== null && dayOf(event.timestamp) < dayOf(now) - def.windowDays + 1) continue;
    const sk = stateKey(def);
    const state = next[sk] ?? {};
    const key = bucketKey(def, event.timestamp);
    const updated = prune({ ...state, [key]: observe(state[key] ?? emptyBucket(), def, event.timestamp, event.messageId, v) }, def, now);
    next = { ...next, [sk]: updated };
    changed.push(def.name);
  }
  return { states: next, changed };
}

/** The survivor's and the absorbed profile's states added together. */
export function mergeStates(a: TraitStates, b: TraitStates): TraitStates {
  const out: TraitStates = { ...a };
  for (const [name, state] of Object.entries(b)) {
    const merged: TraitState = { ...(out[name] ?? {}) };
    for (const [k, bucket] of Object.entries(state)) merged[k] = merged[k] ? addBuckets(merged[k] as Bucket, bucket) : bucket;
    out[name] = merged;
  }
  return out;
}

/** The trait's value at `now`: null when no event counts (0 for count and distinct_count). */
export function traitValue(def: ComputedTraitDefinition, state: TraitState | undefined, now: number): JsonValue {
  const buckets = Object.values(prune(state ?? {}, def, now));
  const total = buckets.reduce(addBuckets, emptyBucket());
  switch (def.aggregation) {
    case 'count':
      return total.count;
    case 'sum':
      return total.sum;
    case 'min':
      return total.min;
    case 'max':
      return total.max;
    case 'average':
      return total.count === 0 ? null : total.sum / total.count;
    case 'first':
      return total.first ? (JSON.parse(total.first.j) as JsonValue) : null;
    case 'last':
      return total.last ? (JSON.parse(total.last.j) as JsonValue) : null;
    case 'distinct_count':
      return Object.keys(total.values).length;
    case 'most_frequent': {
      // Ties: the smaller key, so the answer does not depend on the order of arrival.
      let best: [string, number] | null = null;
      for (const [k, n] of Object.entries(total.values)) if (!best || n > best[1] || (n === best[1] && k < best[0])) best = [k, n];
      return best ? keyValue(best[0]) : null;
    }
  }
}

/** Every defined trait's value at `now`. */
export function traitValues(defs: readonly ComputedTraitDefinition[], states: TraitStates, now: number): Record<string, JsonValue> {
  return Object.fromEntries(defs.map((d) => [d.name, traitValue(d, states[stateKey(d)], now)]));
}
