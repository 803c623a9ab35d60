import { createHash } from 'node:crypto';
import { identifierHash } from '@cdp/contracts';

/**
 * What an erasure remembers of a person: one-way hashes of the erased profile ids and
 * identifiers (no PII), so late events for them can be recognised and dropped.
 */
export type ErasureSubject = { kind: 'profile'; profileId: string } | { kind: 'identifier'; type: string; value: string };

/** The hash an erased profile id or identifier is remembered by (per workspace, so equal values in two workspaces differ). */
export function erasureHash(workspaceId: string, subject: ErasureSubject): string {
  // An identifier's hash is the key of cdp.privacy.suppressions.v1, so the normalizer finds the same one.
  if (subject.kind === 'identifier') return identifierHash(workspaceId, subject.type, subject.value);
  return createHash('sha256').update(`${workspaceId}\nprofile:${subject.profileId}`, 'utf8').digest('hex');
}

/** The hashes of everything an event could resurrect an erased profile through: its profile id and identifiers. */
export function eventErasureHashes(
  workspaceId: string,
  event: { profileId: string; identifiers: readonly { type: string; value: string }[] },
): string[] {
  return [
    erasureHash(workspaceId, { kind: 'profile', profileId: event.profileId }),
    ...event.identifiers.map((i) => erasureHash(workspaceId, { kind: 'identifier', type: i.type, value: i.value })),
  ];
}
