import type { ResolvedEvent } from '@cdp/contracts';
import { uniteAccounts } from './accounts';
import { removedSince, uniteIdentifiers } from './identifiers';
import { orderRevenueMicros } from './computed-traits';
import { CONSENT_TRAIT, consentFromContext } from './consent';
import { parseJsonObject, sameJson } from './json';
import { addStats, rememberMessages } from './profile';
import { safeFieldName } from './safe-key';
import { combineEntries, TraitRoom } from './traits';
import type { AccountEntry, JsonObject, Profile, TraitEntry } from './types';

/** The fields of a resolved event a profile is built from (`context` only for its consent, `groupId` for its accounts). */
export type ProfileEvent = Pick<
  ResolvedEvent,
  'messageId' | 'type' | 'event' | 'timestamp' | 'sourceId' | 'identifiers' | 'traits' | 'properties'
> &
  Partial<Pick<ResolvedEvent, 'context' | 'groupId' | 'receivedAt'>>;

/**
 * The traits an event sets: its own (identify) traits, plus `consent` from the context's
 * categoryPreferences, which any event type may carry. An explicit `consent` trait wins. A
 * group call's traits describe the group (a company's name and email), not the person: none.
 */
export function eventTraits(event: Pick<ProfileEvent, 'type' | 'traits' | 'context'>): JsonObject {
  const traits = event.type === 'group' ? {} : parseJsonObject(event.traits);
  if (Object.hasOwn(traits, CONSENT_TRAIT)) return traits;
  const consent = consentFromContext(event.context);
  return consent ? { ...traits, [CONSENT_TRAIT]: consent } : traits;
}

export interface ApplyResult {
  profile: Profile;
  /** Trait keys whose value changed (not those whose metadata alone changed). */
  changedTraits: string[];
  /** False when the event was already applied (redelivery): the profile is returned unchanged. */
  applied: boolean;
}

/** The name an event is counted under: a track event's name, otherwise its call type. */
export const eventCountName = (event: Pick<ProfileEvent, 'type' | 'event'>): string =>
  safeFieldName(event.type === 'track' && event.event ? event.event : event.type);

/**
 * Applies one event to a profile. Pure. A trait takes the event's value only when the event is
 * newer than the one that set the current value, so any arrival order gives the same traits
 * (below the limits of MAX_TRAITS: past them, which new traits got in depends on the order).
 */
export function applyEvent(profile: Profile, event: ProfileEvent, now: number = event.timestamp): ApplyResult {
  if (profile.appliedMessageIds.includes(event.messageId)) return { profile, changedTraits: [], applied: false };

  const traits: Record<string, TraitEntry> = { ...profile.traits };
  const changedTraits: string[] = [];
  const incoming = eventTraits(event);
  const room = new TraitRoom(traits);
  for (const key of Object.keys(incoming).sort()) {
    const candidate: TraitEntry = {
      value: incoming[key] ?? null,
      updatedAt: event.timestamp,
      source: event.sourceId ?? 'unknown',
      messageId: event.messageId,
    };
    const current = traits[key];
    const winner = combineEntries(key, current, candidate);
    if (winner === current || !room.take(key, current, winner.value)) continue;
    traits[key] = winner;
    if (!current || !sameJson(current.value, winner.value)) changedTraits.push(key);
  }

  const account = groupOf(event);
  // An identifier removed from the person after this event was received stays off (the event was resolved before the removal).
  const receivedAt = event.receivedAt ?? event.timestamp;
  const seen = event.identifiers
    .filter((i) => !removedSince(profile, i.type, i.value, receivedAt))
    .map((i) => ({ type: i.type, value: i.value, firstSeen: event.timestamp, lastSeen: event.timestamp }));
  const stats = addStats(profile.stats, {
    firstSeen: event.timestamp,
    lastSeen: event.timestamp,
    eventCount: 1,
    eventCounts: { [eventCountName(event)]: 1 },
    revenueMicros: orderRevenueMicros(event),
  });

  return {
    profile: {
      ...profile,
      traits,
      identifiers: uniteIdentifiers(profile.identifiers, seen),
      accounts: account ? uniteAccounts(profile.accounts, [account]) : profile.accounts,
      stats,
      version: profile.version + 1,
      updatedAt: Math.max(profile.updatedAt, now),
      appliedMessageIds: rememberMessages(profile.appliedMessageIds, [event.messageId]),
    },
    changedTraits,
    applied: true,
  };
}

/** The group a group call names, with the group's traits, as an account of the person. */
function groupOf(event: ProfileEvent): AccountEntry | null {
  if (event.type !== 'group' || !event.groupId) return null;
  const at = event.timestamp;
  return {
    groupId: event.groupId,
    traits: parseJsonObject(event.traits),
    updatedAt: at,
    messageId: event.messageId,
    firstSeen: at,
    lastSeen: at,
  };
}
