import type { ProfileChange, ResolvedEvent } from '@cdp/contracts';
import { computedTraits, plainTraits, type JsonValue, type Profile } from '@cdp/profile-model';
import { eventNameOf } from './event-name';

export type ChangeCause =
  | { kind: 'event'; event: ResolvedEvent; created: boolean; changedTraits: string[] }
  | { kind: 'merge'; absorbedProfileIds: string[]; changedTraits: string[]; messageId: string | null; receivedAt: number | null }
  /** Updates with no event of their own: a computed trait backfilled over stored events, an identifier removed. */
  | { kind: 'recomputed' }
  | { kind: 'identifier_removed' };

/**
 * The ProfileChange record for a profile's state after a change (full current traits); `custom`
 * are the values of the workspace's user-defined computed traits, next to the built-in ones.
 */
export function profileChange(
  profile: Profile,
  cause: ChangeCause,
  changedAt: number,
  custom: Record<string, JsonValue> = {},
): ProfileChange {
  const base = {
    workspaceId: profile.workspaceId,
    profileId: profile.profileId,
    version: profile.version,
    changedAt,
    changedTraits: 'changedTraits' in cause ? cause.changedTraits : [],
    traits: JSON.stringify(plainTraits(profile.traits)),
    computedTraits: JSON.stringify({ ...custom, ...computedTraits(profile) }),
    identifiers: profile.identifiers.map(({ type, value }) => ({ type, value })),
  };
  const noEvent = { eventName: null, eventTimestamp: null, eventProperties: null };
  if (cause.kind === 'recomputed' || cause.kind === 'identifier_removed') {
    return { ...base, ...noEvent, change: 'updated', absorbedProfileIds: [], messageId: null, receivedAt: null };
  }
  if (cause.kind === 'merge') {
    const { absorbedProfileIds, messageId, receivedAt } = cause;
    return { ...base, ...noEvent, change: 'merged', absorbedProfileIds, messageId, receivedAt };
  }
  const e = cause.event;
  return {
    ...base,
    change: cause.created ? 'created' : 'updated',
    absorbedProfileIds: [],
    messageId: e.messageId,
    eventName: eventNameOf(e),
    eventTimestamp: e.timestamp,
    eventProperties: e.properties,
    receivedAt: e.receivedAt,
  };
}
