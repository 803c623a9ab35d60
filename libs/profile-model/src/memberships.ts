/** One segment membership change as the profile-store's read model needs it. */
export interface MembershipUpdate {
  profileId: string;
  segmentId: string;
  segmentName: string;
  member: boolean;
  membershipVersion: number;
  occurredAt: number;
}

/**
 * The newest change per profile and segment (highest membershipVersion). Applying only these,
 * each only over an older stored version, makes redelivery and reordering harmless.
 */
export function newestMemberships(updates: readonly MembershipUpdate[]): MembershipUpdate[] {
  const newest = new Map<string, MembershipUpdate>();
  for (const u of updates) {
    const key = JSON.stringify([u.profileId, u.segmentId]);
    const seen = newest.get(key);
    if (!seen || u.membershipVersion > seen.membershipVersion) newest.set(key, u);
  }
  return [...newest.values()];
}

/** Whether a stored membership (or none) should take an update. */
export const takesUpdate = (stored: { membershipVersion: number } | null, update: { membershipVersion: number }): boolean =>
  !stored || update.membershipVersion > stored.membershipVersion;
