import { computedTraits, parseJsonObject, plainTraits, type JsonValue, type Profile } from '@cdp/profile-model';
import type { ProfileSegmentDoc } from './profile-segments.repository';
import type { TimelineDoc } from './timeline.repository';

/** The public JSON of a profile (no internal bookkeeping such as appliedMessageIds). */
export function profileView(p: Profile) {
  return {
    profileId: p.profileId,
    traits: plainTraits(p.traits),
    computedTraits: computedTraits(p),
    identifiers: p.identifiers,
    accounts: p.accounts.map(({ groupId, traits, firstSeen, lastSeen }) => ({
      groupId,
      traits,
      firstSeen: new Date(firstSeen).toISOString(),
      lastSeen: new Date(lastSeen).toISOString(),
    })),
    stats: p.stats,
    version: p.version,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}

export function traitsView(
  p: Profile,
  verbose: boolean,
): Record<string, JsonValue | { value: JsonValue; updatedAt: string; source: string; messageId: string }> {
  if (!verbose) return plainTraits(p.traits);
  const out: Record<string, { value: JsonValue; updatedAt: string; source: string; messageId: string }> = {};
  for (const key of Object.keys(p.traits).sort()) {
    const t = p.traits[key];
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
