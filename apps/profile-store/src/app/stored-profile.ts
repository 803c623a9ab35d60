import {
  parseJsonObject,
  type AccountEntry,
  type IdentifierEntry,
  type JsonValue,
  type Profile,
  type ProfileStats,
  type RemovedIdentifier,
  type TraitEntry,
} from '@cdp/profile-model';
import type { WorkspaceDocument } from '@cdp/mongo';
import type { TraitStates } from './user-computed-traits';

/**
 * A trait as stored. The local MongoDB-compatible server cannot store nested arrays, so a value
 * containing one is kept as JSON text in `json` instead of `value`.
 */
export interface StoredTrait {
  value?: JsonValue;
  json?: string;
  updatedAt: number;
  source: string;
  messageId: string;
  /** A fieldwise trait's observations (TraitEntry.parts, .reset), stored the same way. */
  parts?: Record<string, StoredTrait>;
  reset?: StoredTrait;
}

export interface ProfileDoc extends WorkspaceDocument {
  profileId: string;
  traits: Record<string, StoredTrait>;
  identifiers: IdentifierEntry[];
  stats: ProfileStats;
  version: number;
  createdAt: number;
  updatedAt: number;
  appliedMessageIds: string[];
  mergedInto: string | null;
  absorbedProfileIds: string[];
  /** Its groups (group calls); the group's traits as JSON text (they may hold nested arrays). Absent on documents stored before. */
  accounts?: StoredAccount[];
  /** State of the user-defined computed traits (buckets), by state key; absent until one applies. */
  customTraits?: TraitStates;
  /** The token of the bulk write that wrote it last (ProfilesRepository.compareAndSetMany). */
  writeId?: string;
  /** Identifiers removed from the person (absent: none). */
  removedIdentifiers?: RemovedIdentifier[];
}

export type StoredAccount = Omit<AccountEntry, 'traits'> & { traits: string };

const hasNestedArray = (v: JsonValue, inArray = false): boolean => {
  if (Array.isArray(v)) return inArray || v.some((x) => hasNestedArray(x, true));
  if (v !== null && typeof v === 'object') return Object.values(v).some((x) => hasNestedArray(x, false));
  return false;
};

export function storeTrait(t: TraitEntry): StoredTrait {
  const meta = {
    updatedAt: t.updatedAt,
    source: t.source,
    messageId: t.messageId,
    ...(t.parts ? { parts: mapValues(t.parts, storeTrait) } : {}),
    ...(t.reset ? { reset: storeTrait(t.reset) } : {}),
  };
  return hasNestedArray(t.value) ? { json: JSON.stringify(t.value), ...meta } : { value: t.value, ...meta };
}

export function loadTrait(s: StoredTrait): TraitEntry {
  const value = s.json !== undefined ? (JSON.parse(s.json) as JsonValue) : (s.value ?? null);
  return {
    value,
    updatedAt: s.updatedAt,
    source: s.source,
    messageId: s.messageId,
    ...(s.parts ? { parts: mapValues(s.parts, loadTrait) } : {}),
    ...(s.reset ? { reset: loadTrait(s.reset) } : {}),
  };
}

const mapValues = <A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

export function toDoc(p: Profile): ProfileDoc {
  const traits: Record<string, StoredTrait> = {};
  for (const [key, entry] of Object.entries(p.traits)) traits[key] = storeTrait(entry);
  return {
    workspaceId: p.workspaceId,
    profileId: p.profileId,
    traits,
    identifiers: p.identifiers,
    stats: p.stats,
    version: p.version,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    appliedMessageIds: p.appliedMessageIds,
    mergedInto: p.mergedInto,
    absorbedProfileIds: p.absorbedProfileIds,
    accounts: p.accounts.map((a) => ({ ...a, traits: JSON.stringify(a.traits) })),
    ...(p.removedIdentifiers?.length ? { removedIdentifiers: p.removedIdentifiers } : {}),
  };
}

export function fromDoc(d: ProfileDoc): Profile {
  const traits: Record<string, TraitEntry> = {};
  for (const [key, stored] of Object.entries(d.traits ?? {})) traits[key] = loadTrait(stored);
  return {
    workspaceId: d.workspaceId,
    profileId: d.profileId,
    traits,
    identifiers: (d.identifiers ?? []).map(({ type, value, firstSeen, lastSeen }) => ({ type, value, firstSeen, lastSeen })),
    stats: {
      firstSeen: d.stats?.firstSeen ?? null,
      lastSeen: d.stats?.lastSeen ?? null,
      eventCount: d.stats?.eventCount ?? 0,
      eventCounts: { ...(d.stats?.eventCounts ?? {}) },
      revenueMicros: d.stats?.revenueMicros ?? 0,
    },
    version: d.version,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    appliedMessageIds: d.appliedMessageIds ?? [],
    mergedInto: d.mergedInto ?? null,
    absorbedProfileIds: d.absorbedProfileIds ?? [],
    accounts: (d.accounts ?? []).map(({ groupId, traits, updatedAt, messageId, firstSeen, lastSeen }) => ({
      groupId,
      traits: parseJsonObject(traits),
      updatedAt,
      messageId,
      firstSeen,
      lastSeen,
    })),
    ...(d.removedIdentifiers?.length
      ? { removedIdentifiers: d.removedIdentifiers.map(({ type, value, removedAt }) => ({ type, value, removedAt })) }
      : {}),
  };
}
