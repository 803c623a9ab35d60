import { canonicalJson } from './json';
import { MAX_TRAIT_VALUE_CHARS, MAX_TRAITS } from './limits';
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

/**
 * Whether a winning observation may be stored: a known trait takes any value up to
 * MAX_TRAIT_VALUE_CHARS; a new one also needs room under MAX_TRAITS (`count`: traits held now).
 */
export const traitFits = (known: boolean, count: number, value: unknown): boolean =>
  (known || count < MAX_TRAITS) && JSON.stringify(value).length <= MAX_TRAIT_VALUE_CHARS;
