import { Injectable, Logger } from '@nestjs/common';
import type { IdentityMerge, ProfileChange, ResolvedEvent } from '@cdp/contracts';
import { applyEvent, emptyProfile, identifierKey, mergeProfiles, type Profile } from '@cdp/profile-model';
import { profileChange } from './profile-change';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfilesRepository } from './profiles.repository';

interface EventStep {
  event: ResolvedEvent;
  profile: Profile;
  created: boolean;
  changedTraits: string[];
}

/** Identifier keys the profile holds that it did not hold before. */
const newIdKeys = (before: Profile, after: Profile): string[] => {
  const known = new Set(before.identifiers.map((i) => identifierKey(i.type, i.value)));
  return after.identifiers.map((i) => identifierKey(i.type, i.value)).filter((k) => !known.has(k));
};

/** Compare-and-set attempts before a chunk fails (and is redelivered). */
const MAX_ATTEMPTS = 8;
const MAX_REDIRECTS = 16;

/**
 * Applies events and merges to stored profiles with compare-and-set on `version`: read, apply
 * the pure model, write only if nobody wrote in between, otherwise reload and apply again.
 */
@Injectable()
export class ProfileWriter {
  private readonly logger = new Logger(ProfileWriter.name);

  constructor(
    private readonly profiles: ProfilesRepository,
    private readonly identifiers: ProfileIdentifiersRepository,
  ) {}

  /**
   * Applies one profile's events (in offset order) in one write and returns a change per event.
   * An event the profile already remembers (applied before a crash) yields a change with the
   * current state again, so a change lost in that crash is still produced.
   */
  async applyEvents(
    workspaceId: string,
    profileId: string,
    events: ResolvedEvent[],
  ): Promise<{ profileId: string; changes: ProfileChange[] }> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.loadForWrite(workspaceId, profileId);
      const now = Date.now();
      let profile = current;
      const steps: EventStep[] = [];
      for (const event of events) {
        const result = applyEvent(profile, event, now);
        steps.push({
          event,
          profile: result.profile,
          created: result.applied && profile.version === 0,
          changedTraits: result.changedTraits,
        });
        profile = result.profile;
      }
      if (profile.version === current.version) return this.outcome(profile, steps, now);
      // Pointers first: a crash after the profile write must not leave an identifier unfindable.
      await this.identifiers.remember(workspaceId, newIdKeys(current, profile), profile.profileId);
      if (await this.profiles.compareAndSet(profile, current.version)) {
        return this.outcome(profile, steps, now);
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`profile ${profileId}: version conflict after ${attempt} attempts`);
    }
  }

  /** A change per applied event, from the profile state right after it. */
  private outcome(profile: Profile, steps: EventStep[], now: number): { profileId: string; changes: ProfileChange[] } {
    return {
      profileId: profile.profileId,
      changes: steps.map((s) =>
        profileChange(s.profile, { kind: 'event', event: s.event, created: s.created, changedTraits: s.changedTraits }, now),
      ),
    };
  }

  /**
   * Folds `fromProfileId` into `intoProfileId`. First the absorbed profile is marked (CAS), so
   * concurrent writers of it reload and follow the redirect; then its snapshot is folded into the
   * survivor unless the survivor already lists it. Re-running is safe and re-emits the change.
   */
  async merge(merge: IdentityMerge): Promise<ProfileChange | null> {
    const { workspaceId, fromProfileId } = merge;
    const absorbed = await this.markAbsorbed(workspaceId, fromProfileId, merge.intoProfileId);
    if (!absorbed) {
      this.logger.warn(`merge ${merge.mergeId}: ${fromProfileId} was already merged elsewhere; skipped`);
      return null;
    }
    for (let attempt = 1; ; attempt++) {
      const survivor = await this.loadForWrite(workspaceId, merge.intoProfileId);
      if (survivor.profileId === fromProfileId) {
        this.logger.warn(`merge ${merge.mergeId}: would merge ${fromProfileId} into itself; skipped`);
        return null;
      }
      const now = Date.now();
      const done = survivor.absorbedProfileIds.includes(fromProfileId);
      const result = done ? { profile: survivor, changedTraits: [] } : mergeProfiles(survivor, absorbed, now);
      if (done || (await this.profiles.compareAndSet(result.profile, survivor.version))) {
        return profileChange(
          result.profile,
          {
            kind: 'merge',
            absorbedProfileIds: [fromProfileId],
            changedTraits: result.changedTraits,
            messageId: merge.messageId,
            receivedAt: merge.receivedAt,
          },
          now,
        );
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`merge ${merge.mergeId}: version conflict after ${attempt} attempts`);
    }
  }

  /** The absorbed profile with mergedInto set (created as an empty redirect if never seen), or null if merged elsewhere. */
  private async markAbsorbed(workspaceId: string, profileId: string, intoProfileId: string): Promise<Profile | null> {
    for (let attempt = 1; ; attempt++) {
      const current = (await this.profiles.get(workspaceId, profileId)) ?? emptyProfile(workspaceId, profileId, Date.now());
      if (current.mergedInto === intoProfileId) return current;
      if (current.mergedInto) return null;
      const marked: Profile = { ...current, mergedInto: intoProfileId, version: current.version + 1, updatedAt: Date.now() };
      if (await this.profiles.compareAndSet(marked, current.version)) return marked;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`profile ${profileId}: version conflict after ${attempt} attempts`);
    }
  }

  /** The stored profile to write to: follows redirects of absorbed profiles; a new one if none. */
  private async loadForWrite(workspaceId: string, profileId: string): Promise<Profile> {
    let id = profileId;
    for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
      const profile = await this.profiles.get(workspaceId, id);
      if (!profile) return emptyProfile(workspaceId, id, Date.now());
      if (!profile.mergedInto) return profile;
      id = profile.mergedInto;
    }
    throw new Error(`profile ${profileId}: more than ${MAX_REDIRECTS} merge redirects`);
  }
}
