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
    score: null,
    messageId: m.merge.messageId,
    mergedAt: m.merge.mergedAt.getTime(),
    receivedAt: m.merge.receivedAt ? m.merge.receivedAt.getTime() : null,
  };
}

/** The API's view of a merge: dates as ISO strings. */
export function describeMerge(m: StoredMerge) {
  return {
    mergeId: m.merge.mergeId,
    fromProfileId: m.fromProfileId,
    intoProfileId: m.intoProfileId,
    reason: m.merge.reason,
    identifiers: m.merge.identifiers.map(({ type, value }) => ({ type, value })),
    messageId: m.merge.messageId,
    mergedAt: m.merge.mergedAt.toISOString(),
  };
}
