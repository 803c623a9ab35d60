import {
  computedTraits,
  parseJsonObject,
  plainTraits,
  type IdentifierEntry,
  type JsonValue,
  type Profile,
  type ProfileStats,
} from '@cdp/profile-model';
import type { ProfileSegmentDoc } from './profile-segments.repository';
import type { TimelineDoc } from './timeline.repository';

const iso = (ms: number): string => new Date(ms).toISOString();

/** A profile's identifiers as the API answers them: times in ISO 8601, like every other time it answers. */
export const identifiersView = (identifiers: readonly IdentifierEntry[]) =>
  identifiers.map(({ type, value, firstSeen, lastSeen }) => ({ type, value, firstSeen: iso(firstSeen), lastSeen: iso(lastSeen) }));

/** Identifiers taken off the person (held so late events cannot bring them back), times in ISO 8601. */
export const removedIdentifiersView = (p: Profile) =>
  (p.removedIdentifiers ?? []).map(({ type, value, removedAt }) => ({ type, value, removedAt: iso(removedAt) }));

const statsView = (s: ProfileStats) => ({
  ...s,
  firstSeen: s.firstSeen === null ? null : iso(s.firstSeen),
  lastSeen: s.lastSeen === null ? null : iso(s.lastSeen),
});

/** The public JSON of a profile (no internal bookkeeping such as appliedMessageIds). */
export function profileView(p: Profile) {
  return {
    profileId: p.profileId,
    traits: plainTraits(p.traits),
    computedTraits: computedTraits(p),
    identifiers: identifiersView(p.identifiers),
    accounts: p.accounts.map(({ groupId, traits, firstSeen, lastSeen }) => ({
      groupId,
      traits,
      firstSeen: iso(firstSeen),
      lastSeen: iso(lastSeen),
    })),
    stats: statsView(p.stats),
    version: p.version,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

/** The profile's traits, plain or with their metadata; with `include`, only the traits it names (unknown names are absent). */
export function traitsView(
  p: Profile,
  verbose: boolean,
  include?: ReadonlySet<string>,
): Record<string, JsonValue | { value: JsonValue; updatedAt: string; source: string; messageId: string }> {
  // Own keys only: a name such as `constructor` must not reach Object.prototype.
  const traits = include ? Object.fromEntries(Object.entries(p.traits).filter(([key]) => include.has(key))) : p.traits;
  if (!verbose) return plainTraits(traits);
  const out: Record<string, { value: JsonValue; updatedAt: string; source: string; messageId: string }> = {};
  for (const key of Object.keys(traits).sort()) {
    const t = traits[key];
    if (t) out[key] = { value: t.value, updatedAt: new Date(t.updatedAt).toISOString(), source: t.source, messageId: t.messageId };
  }
  return out;
}

export function timelineView(d: TimelineDoc) {
  return {
    messageId: d.messageId,
    profileId: d.profileId,
    type: d.type,
    event: d.event,
    name: d.name,
    sourceId: d.sourceId,
    timestamp: new Date(d.timestamp).toISOString(),
    receivedAt: new Date(d.receivedAt).toISOString(),
    properties: parseJsonObject(d.properties),
    traits: parseJsonObject(d.traits),
  };
}

export function segmentView(d: ProfileSegmentDoc) {
  return {
    segmentId: d.segmentId,
    segmentName: d.segmentName,
    membershipVersion: d.membershipVersion,
    since: new Date(d.changedAt).toISOString(),
  };
}
