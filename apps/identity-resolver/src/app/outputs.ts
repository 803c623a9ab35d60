import type { IdentityMerge, NormalizedEvent, ResolvedEvent } from '@cdp/contracts';
import type { Identifier } from '@cdp/identity-graph';
import type { MergeInfo } from './identity-profiles.repository';

/** The normalized event attributed to its canonical profile. */
export function toResolvedEvent(event: NormalizedEvent, profileId: string, identifiers: Identifier[]): ResolvedEvent {
  return {
    workspaceId: event.workspaceId,
    profileId,
    identifiers: identifiers.map(({ type, value }) => ({ type, value })),
    sourceId: event.sourceId,
    messageId: event.messageId,
    type: event.type,
    event: event.event,
    name: event.name,
    userId: event.userId,
    anonymousId: event.anonymousId,
    groupId: event.groupId,
    timestamp: event.timestamp,
    receivedAt: event.receivedAt,
    traits: event.traits,
    properties: event.properties,
    context: event.context,
  };
}

/** A merge record as stored on the absorbed profile, for the merges topic. */
export interface StoredMerge {
  fromProfileId: string;
  intoProfileId: string;
  merge: MergeInfo;
}

export function toIdentityMerge(workspaceId: string, m: StoredMerge): IdentityMerge {
  return {
    workspaceId,
    mergeId: m.merge.mergeId,
    fromProfileId: m.fromProfileId,
    intoProfileId: m.intoProfileId,
    reason: m.merge.reason,
    identifiers: m.merge.identifiers.map(({ type, value }) => ({ type, value })),
    score: m.merge.score?.total ?? null,
    messageId: m.merge.messageId,
    mergedAt: m.merge.mergedAt.getTime(),
    receivedAt: m.merge.receivedAt ? m.merge.receivedAt.getTime() : null,
  };
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/**
 * The API's view of a merge, its explanation: the rule (`reason`), the identifiers that linked
 * the profiles, the causing event (messageId, its event time and receipt) and, for a
 * probabilistic merge, the score with each field's contribution. Dates as ISO strings.
 */
export function describeMerge(m: StoredMerge) {
  return {
    mergeId: m.merge.mergeId,
    fromProfileId: m.fromProfileId,
    intoProfileId: m.intoProfileId,
    reason: m.merge.reason,
    identifiers: m.merge.identifiers.map(({ type, value }) => ({ type, value })),
    messageId: m.merge.messageId,
    eventTimestamp: iso(m.merge.timestamp),
    receivedAt: iso(m.merge.receivedAt),
    mergedAt: m.merge.mergedAt.toISOString(),
    score: m.merge.score ?? null,
  };
}
