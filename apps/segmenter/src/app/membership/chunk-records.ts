import { deletedChange, type ProfileChange } from '@cdp/contracts';
import type { ProfileData } from '../evaluation/membership-evaluator';
import { MAX_OCCURRENCES } from '../history/history-limits';
import type { HistoryEvent, StoredEvent } from '../history/segment-events.repository';
import type { WorkspaceSegments } from '../segments/segment-catalog';
import type { InboundRecord } from '@cdp/kafka';

// The records of a consumer chunk as the segmenter evaluates them (ProfileChangesConsumer), and
// the removals a merge adds for the profiles it absorbed.

/** A profile's snapshot to mark absorbed into `survivor`. */
export type AbsorbedMark = { workspaceId: string; profileId: string; survivor: string };

/** An event of an absorbed profile, to be stored under the survivor (`profileId`). */
export type MovedEvent = { workspaceId: string; profileId: string; event: HistoryEvent };

export const absorbedIds = (change: ProfileChange): string[] =>
  change.change === 'merged' ? [...new Set(change.absorbedProfileIds)].filter((id) => id !== change.profileId) : [];

/**
 * For a merge, one removal per absorbed profile, evaluated like a deletion in every segment, at
 * the merge's time (`changedAt`) and with the merge's record (trace); its version is found when it
 * is evaluated (see evaluateAbsorbed). Version 0: its snapshot is written only when it has none.
 */
export function absorbedBy(d: Decoded): Decoded[] {
  const all = new Set(d.segments.ordered.map((s) => s.segmentId));
  return absorbedIds(d.change).map((profileId) => ({
    ...d,
    absorbedInto: d.change.profileId,
    change: { ...deletedChange(d.change.workspaceId, profileId, 0, d.change.changedAt), receivedAt: d.change.receivedAt },
    traits: {},
    computed: {},
    properties: null,
    direct: all,
  }));
}

/** A profile's stored state as the chunk read it, with the message ids of its events. */
export type ChunkState = Omit<ProfileData, 'events'> & { events: HistoryEvent[] };

/** A change that passed its checks, with what its evaluation needs. */
export interface Decoded {
  record: InboundRecord;
  change: ProfileChange;
  segments: WorkspaceSegments;
  traits: Record<string, unknown>;
  computed: Record<string, unknown>;
  /** The event's properties when the event is stored, else null. */
  properties: Record<string, unknown> | null;
  /** Ids of the segments the change can move directly. */
  direct: Set<string>;
  /** Set on the removal of a profile a merge absorbed: the survivor. */
  absorbedInto?: string;
  /** On a merge's record: the stored events of the profiles it absorbed (set by loadStates). */
  absorbedEvents?: HistoryEvent[];
}

/** A change's event, its properties parsed. */
type ChangeEvent = Omit<StoredEvent, 'properties'> & { properties: Record<string, unknown> };

/** The change's event as stored (when some segment counts it or the predictions read it), else null. */
export function eventOf({ change, properties }: Decoded): ChangeEvent | null {
  const { profileId, eventName, messageId, eventTimestamp } = change;
  return properties !== null && eventName !== null && messageId !== null && eventTimestamp !== null
    ? { profileId, messageId, eventName, timestamp: eventTimestamp, properties }
    : null;
}

/** An erased person's identifiers are not kept, nor sent out with its exits. */
export const identifiersOf = (change: ProfileChange): { type: string; value: string }[] =>
  change.change === 'deleted' ? [] : change.identifiers.map(({ type, value }) => ({ type, value }));

export const stateKey = (workspaceId: string, profileId: string): string => `${workspaceId}\u0000${profileId}`;

/**
 * Adds an event to a chunk's read of a profile's history unless it is there already, as the store
 * keeps it: past MAX_OCCURRENCES of its name, the oldest of them goes, so the chunk counts what
 * the timer and backfill will read later.
 */
export function addEvent(events: HistoryEvent[], event: HistoryEvent): void {
  if (events.some((e) => e.messageId === event.messageId)) return;
  events.push(event);
  const same = events.filter((e) => e.name === event.name);
  if (same.length > MAX_OCCURRENCES) events.splice(events.indexOf(same[0] as HistoryEvent), 1);
}
