/** A JSON value as it arrives in traits and properties. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** One trait with where and when its value was observed. */
export interface TraitEntry {
  value: JsonValue;
  /** Timestamp (ms) of the event that set the value: the latest event wins, not the latest arrival. */
  updatedAt: number;
  /** Source id of that event, or 'unknown'. */
  source: string;
  /** The event that set the value; breaks ties between events with the same timestamp. */
  messageId: string;
  /** Of a trait kept field by field (FIELDWISE_TRAITS): each field's newest observation... */
  parts?: Record<string, TraitEntry>;
  /** ...and its newest non-object value (null, or a string address), which hides older fields. */
  reset?: TraitEntry;
}

export interface IdentifierEntry {
  type: string;
  value: string;
  firstSeen: number;
  lastSeen: number;
}

/** A group (account, company) the person belongs to, from its group calls: a relation, not a merge. */
export interface AccountEntry {
  groupId: string;
  /** The group's traits as its newest group call gave them. */
  traits: JsonObject;
  /** Timestamp (ms) and messageId of that call: the newest wins, whatever the arrival order. */
  updatedAt: number;
  messageId: string;
  firstSeen: number;
  lastSeen: number;
}

export interface ProfileStats {
  firstSeen: number | null;
  lastSeen: number | null;
  eventCount: number;
  /** Events per name (track: event name, other calls: their type); keys are storage-safe. */
  eventCounts: Record<string, number>;
  /** Sum of Order Completed revenue in millionths (an integer, so sums do not depend on order). */
  revenueMicros: number;
}

export interface Profile {
  workspaceId: string;
  profileId: string;
  traits: Record<string, TraitEntry>;
  /** Sorted by type, then value, so equal sets compare equal. */
  identifiers: IdentifierEntry[];
  stats: ProfileStats;
  /** Increases by one with every change. */
  version: number;
  createdAt: number;
  updatedAt: number;
  /** The latest applied messageIds (bounded): makes a redelivered event a no-op. */
  appliedMessageIds: string[];
  /** Set on an absorbed profile: the profile it now lives in. */
  mergedInto: string | null;
  /** Profiles folded into this one (directly or through earlier merges). */
  absorbedProfileIds: string[];
  /** Its groups, sorted by groupId (at most MAX_ACCOUNTS, the most recently seen). */
  accounts: AccountEntry[];
  /**
   * Identifiers taken off the person (identity-resolver API), newest last, at most
   * MAX_REMOVED_IDENTIFIERS: an event received before the removal does not bring one back.
   * Absent: none.
   */
  removedIdentifiers?: RemovedIdentifier[];
}

/** An identifier removed from a profile, and when (the resolver's clock). */
export interface RemovedIdentifier {
  type: string;
  value: string;
  removedAt: number;
}
