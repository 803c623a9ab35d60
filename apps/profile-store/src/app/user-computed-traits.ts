import { createHash } from 'node:crypto';
import { eventNameOf } from './event-name';
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
  /** The event the trait aggregates, by the name segments count it by (a page view: `Viewed <name> Page`; see event-name.ts). */
  event: string;
  /** The property aggregated (top level of `properties`); not needed for count. */
  property: string | null;
  aggregation: Aggregation;
  /** Window in days (the current UTC day and the days before it), or null for all time. */
  windowDays: number | null;
  /**
   * Set (by the definitions cache, not the API) while the trait's backfill runs: the live path then
   * notes the messageIds it counts, so the backfill leaves them out (see BackfillMark).
   */
  backfilling?: boolean;
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

/**
 * A trait state's backfill bookkeeping, stored next to it (under markKey) while the backfill runs.
 * How an event is counted exactly once, whichever path sees it first:
 * - the live path, for a backfilling definition, counts the event and adds its messageId to `live`;
 * - the backfill counts a timeline event only if its messageId is not in `live` (the live path
 *   counted it) and the event is past `through` of its timeline profile id (a batch replayed after
 *   a restart was already applied up to there). Both write with compare-and-set on the profile
 *   version, so neither overwrites the other.
 * An event the live path applied without the definition (the 2 s definitions cache) is in the
 * timeline before the backfill starts (it waits BACKFILL_START_DELAY_MS), so the backfill counts it.
 */
export interface BackfillMark {
  live: string[];
  /** Per timeline profile id, the last timeline _id applied for it (objects: FerretDB stores no nested arrays). */
  through: { profileId: string; id: string }[];
}

/** A profile's states by state key (see stateKey), and backfill marks by markKey. */
export type TraitStates = Record<string, TraitState | BackfillMark>;

/** Where a state's backfill mark is kept (`~` never occurs in a state key). */
export const markKey = (sk: string): string => `${sk}~backfill`;

const stateAt = (states: TraitStates, sk: string): TraitState | undefined => states[sk] as TraitState | undefined;
export const markAt = (states: TraitStates, sk: string): BackfillMark | undefined => states[markKey(sk)] as BackfillMark | undefined;

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
  event: { type: string; event: string | null; name?: string | null; properties: string | null },
): JsonValue | undefined {
  if (eventNameOf(event) !== def.event) return undefined;
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
  event: { type: string; event: string | null; name?: string | null; properties: string | null; timestamp: number; messageId: string },
  now: number,
): { states: TraitStates; changed: string[] } {
  // Only the states of the current definitions are kept (a deleted or redefined trait's go), and
  // marks only while their backfill runs.
  const keys = new Set(defs.flatMap((d) => (d.backfilling ? [stateKey(d), markKey(stateKey(d))] : [stateKey(d)])));
  let next: TraitStates = Object.fromEntries(Object.entries(states).filter(([k]) => keys.has(k)));
  const changed: string[] = [];
  for (const def of defs) {
    const v = contribution(def, event);
    if (v === undefined) continue;
    if (def.backfilling) {
      const mark = markAt(next, stateKey(def)) ?? { live: [], through: [] };
      if (!mark.live.includes(event.messageId))
        next = { ...next, [markKey(stateKey(def))]: { ...mark, live: [...mark.live, event.messageId] } };
    }
    // An event older than the window counts for nothing now.
    if (def.windowDays !== null && dayOf(event.timestamp) < dayOf(now) - def.windowDays + 1) continue;
    const sk = stateKey(def);
    const state = stateAt(next, sk) ?? {};
    const key = bucketKey(def, event.timestamp);
    const updated = prune({ ...state, [key]: observe(state[key] ?? emptyBucket(), def, event.timestamp, event.messageId, v) }, def, now);
    next = { ...next, [sk]: updated };
    changed.push(def.name);
  }
  return { states: next, changed };
}

const throughMap = (m: BackfillMark): Map<string, string> => new Map(m.through.map((t) => [t.profileId, t.id]));
const throughList = (m: Map<string, string>): BackfillMark['through'] => [...m].map(([profileId, id]) => ({ profileId, id }));

/** Two backfill marks of the same state together (a merge). */
function mergeMarks(a: BackfillMark | undefined, b: BackfillMark): BackfillMark {
  if (!a) return b;
  const through = throughMap(a);
  for (const { profileId, id } of b.through) if ((through.get(profileId) ?? '') < id) through.set(profileId, id);
  return { live: [...new Set([...a.live, ...b.live])], through: throughList(through) };
}

/** The survivor's and the absorbed profile's states added together. */
export function mergeStates(a: TraitStates, b: TraitStates): TraitStates {
  const out: TraitStates = { ...a };
  for (const [name, state] of Object.entries(b)) {
    if (name.endsWith('~backfill')) {
      out[name] = mergeMarks(out[name] as BackfillMark | undefined, state as BackfillMark);
      continue;
    }
    const merged: TraitState = { ...((out[name] as TraitState | undefined) ?? {}) };
    for (const [k, bucket] of Object.entries(state as TraitState)) merged[k] = merged[k] ? addBuckets(merged[k] as Bucket, bucket) : bucket;
    out[name] = merged;
  }
  return out;
}

/** A stored timeline event as the backfill reads it. */
export interface TimelineEvent {
  /** The timeline document's _id (the backfill's scan order). */
  id: string;
  profileId: string;
  messageId: string;
  type: string;
  event: string | null;
  /** A page's or screen's name. */
  name: string | null;
  properties: string | null;
  timestamp: number;
}

/**
 * One backfill batch applied to a profile's states: counts the batch's events of this definition
 * that neither the live path nor an earlier run of the batch counted (see BackfillMark), then
 * records that the batch's timeline profile ids are done through `batchEnd`. Null when nothing
 * changes (every event was already counted).
 */
export function backfillStates(
  states: TraitStates,
  def: ComputedTraitDefinition,
  events: readonly TimelineEvent[],
  batchEnd: string,
  now: number,
): { states: TraitStates; counted: number } | null {
  const sk = stateKey(def);
  const mark = markAt(states, sk) ?? { live: [], through: [] };
  const through = throughMap(mark);
  const live = new Set(mark.live);
  const fresh = events.filter((e) => (through.get(e.profileId) ?? '') < e.id && !live.has(e.messageId));
  if (fresh.length === 0) return null;
  let state = stateAt(states, sk) ?? {};
  let counted = 0;
  for (const e of fresh) {
    const v = contribution(def, e);
    if (v === undefined) continue;
    if (def.windowDays !== null && dayOf(e.timestamp) < dayOf(now) - def.windowDays + 1) continue;
    const key = bucketKey(def, e.timestamp);
    state = { ...state, [key]: observe(state[key] ?? emptyBucket(), def, e.timestamp, e.messageId, v) };
    counted++;
  }
  for (const e of fresh) if ((through.get(e.profileId) ?? '') < batchEnd) through.set(e.profileId, batchEnd);
  return {
    states: { ...states, [sk]: prune(state, def, now), [markKey(sk)]: { live: mark.live, through: throughList(through) } },
    counted,
  };
}

/**
 * Whether a run of the backfill already applied this batch to the profile: one of the batch's
 * timeline profile ids is done through `batchEnd` (only a batch applied before, whose cursor was
 * not saved, leaves that: a replay after a crash).
 */
export function batchApplied(
  states: TraitStates,
  def: ComputedTraitDefinition,
  events: readonly TimelineEvent[],
  batchEnd: string,
): boolean {
  const mark = markAt(states, stateKey(def));
  if (!mark) return false;
  const through = throughMap(mark);
  return events.some((e) => (through.get(e.profileId) ?? '') >= batchEnd);
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
  return Object.fromEntries(defs.map((d) => [d.name, traitValue(d, stateAt(states, stateKey(d)), now)]));
}
