import type { IdentifierEntry, Profile } from './types';

/** `type:value`, the form identifiers are looked up by. */
export const identifierKey = (type: string, value: string): string => `${type}:${value}`;

const order = (a: IdentifierEntry, b: IdentifierEntry): number =>
  a.type === b.type ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : a.type < b.type ? -1 : 1;

/** Unites two identifier lists: one entry per type+value, earliest firstSeen, latest lastSeen, sorted. */
export function uniteIdentifiers(a: readonly IdentifierEntry[], b: readonly IdentifierEntry[]): IdentifierEntry[] {
  const byKey = new Map<string, IdentifierEntry>();
  for (const entry of [...a, ...b]) {
    const key = identifierKey(entry.type, entry.value);
    const seen = byKey.get(key);
    byKey.set(
      key,
      seen
        ? { ...seen, firstSeen: Math.min(seen.firstSeen, entry.firstSeen), lastSeen: Math.max(seen.lastSeen, entry.lastSeen) }
        : { ...entry },
    );
  }
  return [...byKey.values()].sort(order);
}

/**
 * The profile without one identifier, as a new version (the identity-resolver took it off the
 * person), or the same object when the profile does not hold it: re-applying a removal is a no-op.
 */
export function withoutIdentifier(profile: Profile, type: string, value: string, now: number): Profile {
  const identifiers = profile.identifiers.filter((i) => i.type !== type || i.value !== value);
  if (identifiers.length === profile.identifiers.length) return profile;
  return { ...profile, identifiers, version: profile.version + 1, updatedAt: Math.max(profile.updatedAt, now) };
}
