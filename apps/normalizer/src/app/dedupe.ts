/** A record position: the identity of one record in Kafka. */
export const positionOf = (r: { topic: string; partition: number; offset: string }): string => `${r.topic}/${r.partition}/${r.offset}`;

export interface Candidate {
  workspaceId: string;
  messageId: string;
  position: string;
}

/**
 * The claims to make for a chunk: per workspace, each messageId with the position of its first
 * record in the chunk (records come in offset order).
 */
export function claimsOf(candidates: Candidate[]): Map<string, Map<string, string>> {
  const byWorkspace = new Map<string, Map<string, string>>();
  for (const c of candidates) {
    let claims = byWorkspace.get(c.workspaceId);
    if (!claims) byWorkspace.set(c.workspaceId, (claims = new Map()));
    if (!claims.has(c.messageId)) claims.set(c.messageId, c.position);
  }
  return byWorkspace;
}

/**
 * Whether a record is a duplicate: its messageId is held by another record. The record that
 * holds the claim is produced every time it is delivered (a redelivery after a crash must
 * still have its effect); downstream is idempotent on messageId.
 */
export function isDuplicate(candidate: Candidate, holders: Map<string, Map<string, string>>): boolean {
  const holder = holders.get(candidate.workspaceId)?.get(candidate.messageId);
  return holder !== undefined && holder !== candidate.position;
}

/**
 * Whether this delivery of a record is the one whose claim of its messageId was new: not a
 * duplicate, nor a redelivery of a record that claimed it before. What is counted once per event
 * (tracking-plan violations) counts only these; a crash between the claim and the count loses the
 * event's count instead of doubling it.
 */
export function claimedNow(candidate: Candidate, holders: Map<string, Map<string, string>>, earlier: Map<string, Set<string>>): boolean {
  return !isDuplicate(candidate, holders) && earlier.get(candidate.workspaceId)?.has(candidate.messageId) !== true;
}
