import { canonicalJson } from './json';
import { MAX_TRAIT_VALUE_BYTES, MAX_TRAITS, MAX_TRAITS_BYTES } from './limits';
import type { JsonValue, TraitEntry } from './types';

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Total order of trait observations: event timestamp, then messageId, then the value itself, so
 * the winner never depends on arrival order (and merges commute).
 */
export function compareTraitEntries(a: TraitEntry, b: TraitEntry): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? -1 : 1;
  const byMessage = cmp(a.messageId, b.messageId);
  if (byMessage !== 0) return byMessage;
  return cmp(canonicalJson(a.value), canonicalJson(b.value));
}

/** The observation that wins: the candidate only if it is strictly newer. */
export const newerEntry = (current: TraitEntry | undefined, candidate: TraitEntry): TraitEntry =>
  current === undefined || compareTraitEntries(candidate, current) > 0 ? candidate : current;

/**
 * Object traits kept field by field: the normalizer gathers `city`, `zip`, `street`, ... sent as
 * separate traits, often in separate calls, into `address`; replacing it whole would keep only
 * the last call's part.
 */
export const FIELDWISE_TRAITS: ReadonlySet<string> = new Set(['address']);

const isPlainObject = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An observation without the fieldwise bookkeeping. */
const bare = ({ value, updatedAt, source, messageId }: TraitEntry): TraitEntry => ({ value, updatedAt, source, messageId });

/**
 * A fieldwise trait's observations: the newest of each field (from objects), and the newest
 * non-object or empty value (`reset`: a string address, null, {}), which hides the fields observed before it.
 */
function observations(e: TraitEntry): { parts: Record<string, TraitEntry>; reset?: TraitEntry } {
  if (e.parts || e.reset) return { parts: e.parts ?? {}, ...(e.reset ? { reset: e.reset } : {}) };
  // An empty object says no more than null: the address is cleared.
  if (!isPlainObject(e.value) || Object.keys(e.value).length === 0) return { parts: {}, reset: bare(e) };
  const parts = Object.fromEntries(
    Object.entries(e.value).map(([field, value]) => [field, { value, updatedAt: e.updatedAt, source: e.source, messageId: e.messageId }]),
  );
  return { parts };
}

/**
 * The observation a trait keeps: the newer one (newerEntry), or for a FIELDWISE_TRAITS trait the
 * newer observation of each field, less the fields older than the newest non-object value. Each
 * is a maximum over the observations, so any order of events and merges gives the same entry.
 */
export function combineEntries(key: string, current: TraitEntry | undefined, candidate: TraitEntry): TraitEntry {
  if (!FIELDWISE_TRAITS.has(key)) return newerEntry(current, candidate);
  const mine = current ? observations(current) : { parts: {} };
  const theirs = observations(candidate);
  const reset = mine.reset && theirs.reset ? newerEntry(mine.reset, theirs.reset) : (mine.reset ?? theirs.reset);
  const parts: Record<string, TraitEntry> = {};
  for (const field of [...new Set([...Object.keys(mine.parts), ...Object.keys(theirs.parts)])].sort()) {
    const [a, b] = [mine.parts[field], theirs.parts[field]];
    const part = a && b ? newerEntry(a, b) : ((a ?? b) as TraitEntry);
    if (!reset || compareTraitEntries(part, reset) > 0) parts[field] = part;
  }
  const seen = [...Object.values(parts), ...(reset ? [reset] : [])];
  const newest = seen.reduce((x, y) => (compareTraitEntries(y, x) > 0 ? y : x));
  const value =
    Object.keys(parts).length > 0 ? Object.fromEntries(Object.entries(parts).map(([f, p]) => [f, p.value])) : (reset as TraitEntry).value;
  return {
    ...bare({ ...newest, value }),
    ...(Object.keys(parts).length > 0 ? { parts } : {}),
    ...(reset ? { reset } : {}),
  };
}

/** Trait values without their metadata. */
export function plainTraits(traits: Record<string, TraitEntry>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(traits).sort()) out[key] = (traits[key] as TraitEntry).value;
  return out;
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const valueBytes = (value: unknown): number => bytes(JSON.stringify(value) ?? 'null');

/**
 * The room a profile's traits have left (MAX_TRAITS, MAX_TRAIT_VALUE_BYTES, MAX_TRAITS_BYTES),
 * for one application of an event or merge: the total is measured once, when first needed.
 */
export class TraitRoom {
  private count: number;
  private total: number | undefined;

  constructor(private readonly traits: Readonly<Record<string, TraitEntry>>) {
    this.count = Object.keys(traits).length;
  }

  /** Whether `value` may take the place of `current` (undefined: a new trait); if so, its room is taken. */
  take(key: string, current: TraitEntry | undefined, value: unknown): boolean {
    if (!current && this.count >= MAX_TRAITS) return false;
    const size = valueBytes(value);
    if (size > MAX_TRAIT_VALUE_BYTES) return false;
    this.total ??= Object.entries(this.traits).reduce((sum, [k, e]) => sum + bytes(k) + valueBytes(e.value), 0);
    const grows = current ? size - valueBytes(current.value) : size + bytes(key);
    if (grows > 0 && this.total + grows > MAX_TRAITS_BYTES) return false;
    this.total += grows;
    if (!current) this.count++;
    return true;
  }
}
