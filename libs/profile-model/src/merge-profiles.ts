import { uniteAccounts } from './accounts';
import { uniteIdentifiers, uniteRemoved } from './identifiers';
import { sameJson } from './json';
import { addStats, rememberMessages } from './profile';
import { combineEntries, TraitRoom } from './traits';
import type { Profile, TraitEntry } from './types';

export interface MergeResult {
  profile: Profile;
  /** Trait keys whose value on the survivor changed. */
  changedTraits: string[];
}

/**
 * Folds an absorbed profile into the survivor. Pure. Traits keep the newest observation of
 * either side (commutative), counters add up, identifiers are united. The caller guards against
 * folding the same profile twice (survivor.absorbedProfileIds).
 */
export function mergeProfiles(survivor: Profile, absorbed: Profile, now: number = survivor.updatedAt): MergeResult {
  const traits: Record<string, TraitEntry> = { ...survivor.traits };
  const changedTraits: string[] = [];
  const room = new TraitRoom(traits);
  for (const key of Object.keys(absorbed.traits).sort()) {
    const current = traits[key];
    const winner = combineEntries(key, current, absorbed.traits[key] as TraitEntry);
    if (winner === current || !room.take(key, current, winner.value)) continue;
    traits[key] = winner;
    if (!current || !sameJson(current.value, winner.value)) changedTraits.push(key);
  }
  const absorbedIds = new Set([...survivor.absorbedProfileIds, absorbed.profileId, ...absorbed.absorbedProfileIds]);
  absorbedIds.delete(survivor.profileId);
  return {
    profile: {
      ...survivor,
      traits,
      identifiers: uniteIdentifiers(survivor.identifiers, absorbed.identifiers),
      accounts: uniteAccounts(survivor.accounts, absorbed.accounts),
      stats: addStats(survivor.stats, absorbed.stats),
      version: survivor.version + 1,
      createdAt: Math.min(survivor.createdAt, absorbed.createdAt),
      updatedAt: Math.max(survivor.updatedAt, now),
      appliedMessageIds: rememberMessages(absorbed.appliedMessageIds, survivor.appliedMessageIds),
      absorbedProfileIds: [...absorbedIds].sort(),
      ...removedOf(survivor, absorbed),
    },
    changedTraits,
  };
}

/** The removed identifiers of both, when either has some (a profile without any stays without the field). */
function removedOf(a: Profile, b: Profile): Pick<Profile, 'removedIdentifiers'> {
  if (!a.removedIdentifiers?.length && !b.removedIdentifiers?.length) return {};
  return { removedIdentifiers: uniteRemoved(a.removedIdentifiers ?? [], b.removedIdentifiers ?? []) };
}
