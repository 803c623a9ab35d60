import { identifierKey, type Identifier } from '@cdp/identity-graph';
import type { IdentityDoc } from './identities.repository';
import type { IdentityProfileDoc } from './identity-profiles.repository';

/**
 * What a chunk read of the graph at its start (one bulk find of its identifiers, one per level of
 * profiles), so that each event's first attempt needs no read of its own. Known absences are kept
 * too (null). Whatever the chunk writes is forgotten (`forget*`), so the next event reads it again;
 * after a conflict (`GraphChanged`) everything is. A stale entry (another instance wrote since) is
 * no worse than the read-then-write race every attempt has: the compare-and-set writes (claim,
 * merge pointer) find out and the event is decided again from fresh reads.
 */
export class ChunkGraph {
  private readonly identities = new Map<string, IdentityDoc | null>();
  private readonly profiles = new Map<string, IdentityProfileDoc | null>();

  /** Records a read: the asked identifiers, the documents found (the others are known absent). */
  putIdentities(ws: string, asked: readonly Identifier[], found: readonly IdentityDoc[]): void {
    for (const id of asked) this.identities.set(idKey(ws, id), null);
    for (const doc of found) this.identities.set(idKey(ws, doc), doc);
  }

  putProfiles(ws: string, asked: readonly string[], found: readonly IdentityProfileDoc[]): void {
    for (const p of asked) this.profiles.set(profileKey(ws, p), null);
    for (const doc of found) this.profiles.set(profileKey(ws, doc.profileId), doc);
  }

  /** The cached documents of the identifiers, and those not cached (to be read). */
  lookupIdentities(ws: string, ids: readonly Identifier[]): { found: IdentityDoc[]; missing: Identifier[] } {
    const found: IdentityDoc[] = [];
    const missing: Identifier[] = [];
    for (const id of ids) {
      const entry = this.identities.get(idKey(ws, id));
      if (entry === undefined) missing.push(id);
      else if (entry) found.push(entry);
    }
    return { found, missing };
  }

  lookupProfiles(ws: string, profileIds: readonly string[]): { found: IdentityProfileDoc[]; missing: string[] } {
    const found: IdentityProfileDoc[] = [];
    const missing: string[] = [];
    for (const p of profileIds) {
      const entry = this.profiles.get(profileKey(ws, p));
      if (entry === undefined) missing.push(p);
      else if (entry) found.push(entry);
    }
    return { found, missing };
  }

  forgetIdentity(ws: string, id: Identifier): void {
    this.identities.delete(idKey(ws, id));
  }

  forgetProfiles(ws: string, ...profileIds: string[]): void {
    for (const p of profileIds) this.profiles.delete(profileKey(ws, p));
  }

  clear(): void {
    this.identities.clear();
    this.profiles.clear();
  }
}

const idKey = (ws: string, id: Identifier): string => `${ws}\u0000${identifierKey(id)}`;
const profileKey = (ws: string, profileId: string): string => `${ws}\u0000${profileId}`;
