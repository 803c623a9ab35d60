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
