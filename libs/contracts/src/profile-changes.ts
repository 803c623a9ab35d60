import type { ProfileChange } from './generated';

/**
 * A `deleted` profile change: no traits, no identifiers, no event. The profile-store ends an erased
 * profile with it (at a version above every earlier one, so consumers do not take it for a stale
 * record); consumers exit every membership of the profile on it.
 */
export function deletedChange(workspaceId: string, profileId: string, version: number, changedAt: number): ProfileChange {
  return {
    workspaceId,
    profileId,
    version,
    change: 'deleted',
    changedAt,
    changedTraits: [],
    traits: '{}',
    computedTraits: '{}',
    identifiers: [],
    absorbedProfileIds: [],
    messageId: null,
    eventName: null,
    eventTimestamp: null,
    eventProperties: null,
    receivedAt: null,
  };
}
