import { Injectable, Logger } from '@nestjs/common';
import { workspaceOfKey } from '@cdp/contracts';
import type { InboundRecord } from '@cdp/kafka';
import { groupBy } from '@cdp/platform';
import { IdentitiesRepository } from './identities.repository';
import { IdentityProfilesRepository } from './identity-profiles.repository';
import { IdentityRefusalsRepository } from './identity-refusals.repository';
import { BlockingKeysRepository, LinkageRecordsRepository } from './linkage.repository';
import { MAX_CHAIN } from './profile-graph';

/** An erased profile, from a tombstone on cdp.profiles.changes.v1 (key `<workspaceId>:<profileId>`, null value). */
export interface Erasure {
  workspaceId: string;
  profileId: string;
  /** The tombstone's time: what the graph held then is dropped, what was added since stays. */
  at: Date;
}

/** The erasures among a chunk of cdp.profiles.changes.v1: its tombstones; every other change is ignored. */
export function erasuresOf(records: readonly InboundRecord[]): Erasure[] {
  return records.flatMap((r) => {
    if (r.value !== null || !r.key) return [];
    const key = r.key.toString('utf8');
    const workspaceId = workspaceOfKey(key);
    const profileId = key.slice(workspaceId.length + 1);
    return workspaceId && profileId ? [{ workspaceId, profileId, at: new Date(r.timestamp) }] : [];
  });
}

/**
 * Drops erased people from the identity graph: the profile-store erases a person (the survivor
 * and every absorbed id, each with a tombstone); here the profiles and the identifiers attached to
 * them are deleted, so the identifiers are free again. Future events carrying them create a new
 * profile, whose events the profile-store drops while its suppression lasts
 * (PROFILE_ERASURE_SUPPRESSION_DAYS). Profiles absorbed into an erased one that the
 * profile-store did not know of are dropped too. Idempotent: a redelivered tombstone deletes nothing more.
 */
@Injectable()
export class ProfileErasures {
  private readonly logger = new Logger(ProfileErasures.name);

  constructor(
    private readonly identities: IdentitiesRepository,
    private readonly profiles: IdentityProfilesRepository,
    private readonly linkage: LinkageRecordsRepository,
    private readonly blocks: BlockingKeysRepository,
    private readonly refusals: IdentityRefusalsRepository,
  ) {}

  async apply(erasures: readonly Erasure[]): Promise<void> {
    const byWorkspace = groupBy(erasures, (e) => e.workspaceId);
    for (const [ws, list] of byWorkspace) {
      // One cut-off per chunk and workspace: the latest tombstone (tombstones of one person arrive together).
      const at = new Date(Math.max(...list.map((e) => e.at.getTime())));
      const all = new Set(list.map((e) => e.profileId));
      let frontier = [...all];
      for (let level = 0; frontier.length > 0 && level < MAX_CHAIN; level++) {
        frontier = (await this.profiles.absorbedInto(ws, frontier)).filter((id) => !all.has(id));
        for (const id of frontier) all.add(id);
      }
      const ids = [...all];
      const identifiers = await this.identities.removeOfProfiles(ws, ids, at);
      const profiles = await this.profiles.deleteProfiles(ws, ids, at);
      // The person's fuzzy-matching record (name, birthday, address, phone) goes too, and the profiles leave its blocks.
      await this.linkage.erase(ws, ids, at, (keys, profileId) => this.blocks.remove(ws, keys, profileId));
      // And what was kept off them: the explanations name the erased ids.
      await this.refusals.removeOfProfiles(ws, ids);
      this.logger.log(`erasure in ${ws}: ${ids.length} profile id(s), ${identifiers} identifier(s) and ${profiles} profile(s) dropped`);
    }
  }
}
