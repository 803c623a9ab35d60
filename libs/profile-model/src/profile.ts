import { APPLIED_MESSAGE_WINDOW, MAX_EVENT_NAMES, OTHER_EVENTS } from './limits';
import type { Profile, ProfileStats } from './types';

/** A profile nobody has seen an event of yet (version 0: not stored). */
export function emptyProfile(workspaceId: string, profileId: string, now: number): Profile {
  return {
    workspaceId,
    profileId,
    traits: {},
    identifiers: [],
    stats: { firstSeen: null, lastSeen: null, eventCount: 0, eventCounts: {}, revenueMicros: 0 },
    version: 0,
    createdAt: now,
    updatedAt: now,
    appliedMessageIds: [],
    mergedInto: null,
    absorbedProfileIds: [],
    accounts: [],
  };
}

const minOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/** Adds `count` events under `name`, keeping the number of distinct names bounded. */
export function countEvents(counts: Record<string, number>, name: string, count: number): Record<string, number> {
  const out = { ...counts };
  const key = name in out || Object.keys(out).length < MAX_EVENT_NAMES ? name : OTHER_EVENTS;
  out[key] = (out[key] ?? 0) + count;
  return out;
}

export function addStats(a: ProfileStats, b: ProfileStats): ProfileStats {
  let eventCounts = { ...a.eventCounts };
  for (const name of Object.keys(b.eventCounts).sort()) eventCounts = countEvents(eventCounts, name, b.eventCounts[name] ?? 0);
  return {
    firstSeen: minOf(a.firstSeen, b.firstSeen),
    lastSeen: maxOf(a.lastSeen, b.lastSeen),
    eventCount: a.eventCount + b.eventCount,
    eventCounts,
    revenueMicros: a.revenueMicros + b.revenueMicros,
  };
}

/** Remembers a messageId, forgetting the oldest beyond the window. */
export function rememberMessages(current: readonly string[], added: readonly string[]): string[] {
  const seen = new Set(current);
  const out = [...current];
  for (const id of added) {
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(id);
  }
  return out.length > APPLIED_MESSAGE_WINDOW ? out.slice(out.length - APPLIED_MESSAGE_WINDOW) : out;
}
