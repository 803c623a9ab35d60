import { MAX_REMOVED_IDENTIFIERS } from './limits';
import { rememberMessages } from './profile';
import type { IdentifierEntry, Profile, RemovedIdentifier } from './types';

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
 * The profile after an identifier removal (`removalId` unique per removal): without that
 * identifier, as a new version that remembers the removal among its applied messages and the
 * identifier among its removed ones (so an event received before `removedAt` but applied after
 * does not bring it back). A removal applied before leaves the profile as it is (`applied`
 * false): delivered again, it must not take off an identifier the person got back legitimately
 * since (a later profile merged in).
 */
export function removeIdentifier(
  profile: Profile,
  removal: { removalId: string; type: string; value: string; removedAt: number },
  now: number,
): { profile: Profile; applied: boolean } {
  const { removalId, type, value, removedAt } = removal;
  if (profile.appliedMessageIds.includes(removalId)) return { profile, applied: false };
  return {
    applied: true,
    profile: {
      ...profile,
      identifiers: profile.identifiers.filter((i) => i.type !== type || i.value !== value),
      version: profile.version + 1,
      updatedAt: Math.max(profile.updatedAt, now),
      appliedMessageIds: rememberMessages(profile.appliedMessageIds, [removalId]),
      removedIdentifiers: uniteRemoved(profile.removedIdentifiers ?? [], [{ type, value, removedAt }]),
    },
  };
}

/** Both lists of removed identifiers: one entry per identifier (its latest removal), the newest MAX_REMOVED_IDENTIFIERS. */
export function uniteRemoved(a: readonly RemovedIdentifier[], b: readonly RemovedIdentifier[]): RemovedIdentifier[] {
  const byKey = new Map<string, RemovedIdentifier>();
  for (const r of [...a, ...b]) {
    const key = identifierKey(r.type, r.value);
    const seen = byKey.get(key);
    if (!seen || r.removedAt > seen.removedAt) byKey.set(key, r);
  }
  return [...byKey.values()].sort((x, y) => x.removedAt - y.removedAt).slice(-MAX_REMOVED_IDENTIFIERS);
}

/** Whether an event received at `receivedAt` was on its way before the identifier's removal from this profile. */
export const removedSince = (profile: Profile, type: string, value: string, receivedAt: number): boolean =>
  (profile.removedIdentifiers ?? []).some((r) => r.type === type && r.value === value && receivedAt < r.removedAt);
