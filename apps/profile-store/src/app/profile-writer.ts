import { Injectable, Logger } from '@nestjs/common';
import type { IdentityMerge, IdentityRemoval, ProfileChange, ResolvedEvent } from '@cdp/contracts';
import { awaitAll } from '@cdp/kafka';
import { applyEvent, emptyProfile, identifierKey, mergeProfiles, removeIdentifier, type Profile } from '@cdp/profile-model';
import { profileChange } from './profile-change';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfilesRepository, type ProfileWrite, type ProfileWithState } from './profiles.repository';
import { applyToStates, mergeStates, traitValues, type ComputedTraitDefinition, type TraitStates } from './user-computed-traits';

interface EventStep {
  event: ResolvedEvent;
  profile: Profile;
  custom: TraitStates;
  created: boolean;
  changedTraits: string[];
}

/** One profile's events of a chunk, in offset order. */
export interface ProfileEvents {
  profileId: string;
  events: ResolvedEvent[];
}

/** The profile the events went to (a survivor, after redirects) and a change per event. */
export interface AppliedEvents {
  profileId: string;
  changes: ProfileChange[];
}

interface Plan {
  profile: Profile;
  custom: TraitStates;
  steps: EventStep[];
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
   * Applies a chunk's events, grouped by profile, with one read, one identifier insert and one
   * bulk compare-and-set for the whole chunk. A profile that redirects (absorbed) or that someone
   * else wrote in between takes the one-profile path, which follows redirects and retries.
   * Results are in the order of `batches`.
   */
  async applyChunk(
    workspaceId: string,
    batches: readonly ProfileEvents[],
    defs: readonly ComputedTraitDefinition[] = [],
  ): Promise<AppliedEvents[]> {
    const loaded = await this.profiles.getManyWithState(
      workspaceId,
      batches.map((b) => b.profileId),
    );
    const now = Date.now();
    const results: (AppliedEvents | undefined)[] = batches.map(() => undefined);
    const planned: { index: number; plan: Plan; current: Profile }[] = [];
    batches.forEach((b, index) => {
      const stored = loaded.get(b.profileId) ?? { profile: emptyProfile(workspaceId, b.profileId, now), custom: {} };
      if (stored.profile.mergedInto) return;
      const plan = this.plan(stored, b.events, defs, now);
      if (plan.profile.version === stored.profile.version) results[index] = this.outcome(plan, defs, now);
      else planned.push({ index, plan, current: stored.profile });
    });
    // Pointers first: a crash after the profile writes must not leave an identifier unfindable.
    await this.identifiers.rememberMany(
      workspaceId,
      planned.map(({ plan, current }) => ({ idKeys: newIdKeys(current, plan.profile), profileId: plan.profile.profileId })),
    );
    const written = await this.profiles.compareAndSetMany(
      workspaceId,
      planned.map(({ plan, current }) => ({
        profile: plan.profile,
        expected: current.version,
        custom: defs.length > 0 ? plan.custom : undefined,
      })),
    );
    planned.forEach(({ index, plan }, i) => {
      if (written[i]) results[index] = this.outcome(plan, defs, now);
    });
    return awaitAll(batches.map((b, i) => results[i] ?? this.applyEvents(workspaceId, b.profileId, b.events, defs)));
  }

  /**
   * Applies one profile's events (in offset order) in one write and returns a change per event.
   * An event the profile already remembers (applied before a crash) yields a change with the
   * current state again, so a change lost in that crash is still produced.
   */
  async applyEvents(
    workspaceId: string,
    profileId: string,
    events: ResolvedEvent[],
    defs: readonly ComputedTraitDefinition[] = [],
  ): Promise<AppliedEvents> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.loadForWrite(workspaceId, profileId);
      const current = loaded.profile;
      const now = Date.now();
      const plan = this.plan(loaded, events, defs, now);
      if (plan.profile.version === current.version) return this.outcome(plan, defs, now);
      // Pointers first: a crash after the profile write must not leave an identifier unfindable.
      await this.identifiers.remember(workspaceId, newIdKeys(current, plan.profile), plan.profile.profileId);
      if (await this.profiles.compareAndSet(plan.profile, current.version, defs.length > 0 ? plan.custom : undefined)) {
        return this.outcome(plan, defs, now);
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`profile ${profileId}: version conflict after ${attempt} attempts`);
    }
  }

  /** The pure part: the events applied in order to the loaded profile, with the state after each. */
  private plan(loaded: ProfileWithState, events: readonly ResolvedEvent[], defs: readonly ComputedTraitDefinition[], now: number): Plan {
    let profile = loaded.profile;
    let custom = loaded.custom;
    const steps: EventStep[] = [];
    for (const event of events) {
      const result = applyEvent(profile, event, now);
      // Only an event applied for the first time counts (the profile's appliedMessageIds decide).
      if (result.applied && defs.length > 0) custom = applyToStates(custom, defs, event, now).states;
      steps.push({
        event,
        profile: result.profile,
        custom,
        created: result.applied && profile.version === 0,
        changedTraits: result.changedTraits,
      });
      profile = result.profile;
    }
    return { profile, custom, steps };
  }

  /** A change per applied event, from the profile state right after it. */
  private outcome({ profile, steps }: Plan, defs: readonly ComputedTraitDefinition[], now: number): AppliedEvents {
    return {
      profileId: profile.profileId,
      changes: steps.map((s) =>
        profileChange(
          s.profile,
          { kind: 'event', event: s.event, created: s.created, changedTraits: s.changedTraits },
          now,
          traitValues(defs, s.custom, now),
        ),
      ),
    };
  }

  /**
   * Folds `fromProfileId` into `intoProfileId`. First the absorbed profile is marked (CAS), so
   * concurrent writers of it reload and follow the redirect; then its snapshot is folded into the
   * survivor unless the survivor already lists it. Re-running is safe and re-emits the change.
   */
  async merge(merge: IdentityMerge, defs: readonly ComputedTraitDefinition[] = []): Promise<ProfileChange | null> {
    const { workspaceId, fromProfileId } = merge;
    const marked = await this.markAbsorbed(workspaceId, fromProfileId, merge.intoProfileId);
    if (!marked) {
      this.logger.warn(`merge ${merge.mergeId}: ${fromProfileId} was already merged elsewhere; skipped`);
      return null;
    }
    const { profile: absorbed, custom: absorbedCustom } = marked;
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.loadForWrite(workspaceId, merge.intoProfileId);
      const survivor = loaded.profile;
      if (survivor.profileId === fromProfileId) {
        this.logger.warn(`merge ${merge.mergeId}: would merge ${fromProfileId} into itself; skipped`);
        return null;
      }
      const fold = foldInto(loaded, { profile: absorbed, custom: absorbedCustom }, Date.now());
      if (!fold.write || (await this.profiles.compareAndSet(fold.write.profile, fold.write.expected, fold.write.custom))) {
        return mergeChange(merge, fold, defs);
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`merge ${merge.mergeId}: version conflict after ${attempt} attempts`);
    }
  }

  /**
   * Folds merges that share no profile (one workspace) at once: one read of all their profiles,
   * one bulk compare-and-set of the absorbed profiles' marks, one of the survivors. A merge this
   * cannot settle (a survivor that redirects, a version conflict) goes through `merge` on its own.
   * The answers in the merges' order, as `merge` gives them.
   */
  async mergeMany(
    workspaceId: string,
    merges: readonly IdentityMerge[],
    defs: readonly ComputedTraitDefinition[] = [],
  ): Promise<(ProfileChange | null)[]> {
    const now = Date.now();
    const ids = merges.flatMap((m) => [m.fromProfileId, m.intoProfileId]);
    const stored = await this.profiles.getManyWithState(workspaceId, ids);
    const loaded = (id: string): ProfileWithState => stored.get(id) ?? { profile: emptyProfile(workspaceId, id, now), custom: {} };
    // Per merge: the absorbed profile as marked, and the mark to write (none when marked before).
    const plans = merges.map((merge) => {
      const from = loaded(merge.fromProfileId);
      const into = loaded(merge.intoProfileId);
      if (into.profile.mergedInto) return { merge, status: 'alone' as const }; // a redirect to follow
      if (from.profile.mergedInto === merge.intoProfileId) return { merge, status: 'fold' as const, from, into, mark: null };
      if (from.profile.mergedInto) return { merge, status: 'elsewhere' as const };
      const marked = { ...from.profile, mergedInto: merge.intoProfileId, version: from.profile.version + 1, updatedAt: now };
      const mark: ProfileWrite = { profile: marked, expected: from.profile.version };
      return { merge, status: 'fold' as const, from: { profile: marked, custom: from.custom }, into, mark };
    });
    const marks = plans.flatMap((p) => (p.status === 'fold' && p.mark ? [{ plan: p, write: p.mark }] : []));
    const marked = await this.profiles.compareAndSetMany(
      workspaceId,
      marks.map((m) => m.write),
    );
    const lost = new Set<IdentityMerge>(marks.filter((_, k) => !marked[k]).map((m) => m.plan.merge));
    const folds = plans.flatMap((p) =>
      p.status === 'fold' && !lost.has(p.merge) ? [{ merge: p.merge, fold: foldInto(p.into, p.from, now) }] : [],
    );
    const writes = folds.flatMap((f) => (f.fold.write ? [{ merge: f.merge, write: f.fold.write }] : []));
    const written = await this.profiles.compareAndSetMany(
      workspaceId,
      writes.map((w) => w.write),
    );
    writes.forEach((w, k) => written[k] || lost.add(w.merge));
    const changes = new Map(folds.filter((f) => !lost.has(f.merge)).map((f) => [f.merge, mergeChange(f.merge, f.fold, defs)]));
    // The rest on their own (re-running a merge is safe: a mark or fold already written is found).
    return awaitAll(
      plans.map((p) => {
        if (p.status === 'elsewhere') {
          this.logger.warn(`merge ${p.merge.mergeId}: ${p.merge.fromProfileId} was already merged elsewhere; skipped`);
          return null;
        }
        return changes.get(p.merge) ?? this.merge(p.merge, defs);
      }),
    );
  }

  /**
   * Takes a removed identifier off the person: off the profile the resolver named (canonical
   * there) and off the one the identifier was first attached to, which does not redirect there yet
   * while a merge between them is still on its way here; each followed through redirects. Then its
   * `type:value` pointer goes if it leads to one of them (a pointer a later person's event set
   * stays). A profile remembers the removal among its applied
   * messages, so a redelivery only re-emits the change. A profile not stored (or erased) is left
   * alone. One change per profile reached.
   */
  async removeIdentifier(removal: IdentityRemoval, defs: readonly ComputedTraitDefinition[] = []): Promise<ProfileChange[]> {
    const { workspaceId, identifier } = removal;
    const changes = new Map<string, ProfileChange>();
    for (const id of new Set([removal.profileId, removal.attachedTo ?? removal.profileId])) {
      const change = await this.applyRemoval(removal, id, defs);
      if (change) changes.set(change.profileId, change);
    }
    // Also on a redelivery (a crash may have come between the write and this), unless the person
    // holds the identifier again by then: its pointer is theirs.
    const holds = [...changes.values()].some((c) => c.identifiers.some((i) => i.type === identifier.type && i.value === identifier.value));
    if (!holds) await this.forgetPointer(workspaceId, identifierKey(identifier.type, identifier.value), new Set(changes.keys()));
    return [...changes.values()];
  }

  private async applyRemoval(
    removal: IdentityRemoval,
    profileId: string,
    defs: readonly ComputedTraitDefinition[],
  ): Promise<ProfileChange | null> {
    const { removalId, removedAt, identifier } = removal;
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.loadForWrite(removal.workspaceId, profileId);
      const current = loaded.profile;
      if (current.version === 0) return null;
      const now = Date.now();
      const { profile, applied } = removeIdentifier(current, { removalId, removedAt, ...identifier }, now);
      if (!applied || (await this.profiles.compareAndSet(profile, current.version))) {
        return profileChange(profile, { kind: 'identifier_removed' }, now, traitValues(defs, loaded.custom, now));
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`profile ${current.profileId}: version conflict after ${attempt} attempts`);
    }
  }

  /** Deletes the identifier's pointer when it leads (through redirects) to one of `profileIds`. */
  private async forgetPointer(workspaceId: string, idKey: string, profileIds: ReadonlySet<string>): Promise<void> {
    const pointer = await this.identifiers.lookup(workspaceId, idKey);
    if (pointer === null) return;
    if (profileIds.has(pointer) || profileIds.has((await this.loadForWrite(workspaceId, pointer)).profile.profileId)) {
      await this.identifiers.forgetIfAt(workspaceId, idKey, pointer);
    }
  }

  /**
   * The absorbed profile with mergedInto set (created as an empty redirect if never seen), and its
   * computed-trait state (the mark leaves it untouched), or null if merged elsewhere.
   */
  private async markAbsorbed(workspaceId: string, profileId: string, intoProfileId: string): Promise<ProfileWithState | null> {
    for (let attempt = 1; ; attempt++) {
      const loaded = (await this.profiles.getWithState(workspaceId, profileId)) ?? {
        profile: emptyProfile(workspaceId, profileId, Date.now()),
        custom: {},
      };
      const current = loaded.profile;
      if (current.mergedInto === intoProfileId) return loaded;
      if (current.mergedInto) return null;
      const marked: Profile = { ...current, mergedInto: intoProfileId, version: current.version + 1, updatedAt: Date.now() };
      if (await this.profiles.compareAndSet(marked, current.version)) return { profile: marked, custom: loaded.custom };
      if (attempt >= MAX_ATTEMPTS) throw new Error(`profile ${profileId}: version conflict after ${attempt} attempts`);
    }
  }

  /** The stored profile to write to: follows redirects of absorbed profiles; a new one if none. */
  private async loadForWrite(workspaceId: string, profileId: string): Promise<ProfileWithState> {
    let id = profileId;
    for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
      const loaded = await this.profiles.getWithState(workspaceId, id);
      if (!loaded) return { profile: emptyProfile(workspaceId, id, Date.now()), custom: {} };
      if (!loaded.profile.mergedInto) return loaded;
      id = loaded.profile.mergedInto;
    }
    throw new Error(`profile ${profileId}: more than ${MAX_REDIRECTS} merge redirects`);
  }
}

/** A merge folded into the survivor as loaded: the profile after it, and the write it needs (none when done before). */
interface Fold {
  at: number;
  profile: Profile;
  changedTraits: string[];
  custom: TraitStates;
  absorbedProfileId: string;
  write: ProfileWrite | null;
}

function foldInto(survivor: ProfileWithState, absorbed: ProfileWithState, now: number): Fold {
  const absorbedProfileId = absorbed.profile.profileId;
  if (survivor.profile.absorbedProfileIds.includes(absorbedProfileId)) {
    return { at: now, profile: survivor.profile, changedTraits: [], custom: survivor.custom, absorbedProfileId, write: null };
  }
  const result = mergeProfiles(survivor.profile, absorbed.profile, now);
  const custom = mergeStates(survivor.custom, absorbed.custom);
  const customChanged = Object.keys(absorbed.custom).length > 0;
  return {
    at: now,
    profile: result.profile,
    changedTraits: result.changedTraits,
    custom,
    absorbedProfileId,
    write: { profile: result.profile, expected: survivor.profile.version, ...(customChanged ? { custom } : {}) },
  };
}

function mergeChange(merge: IdentityMerge, fold: Fold, defs: readonly ComputedTraitDefinition[]): ProfileChange {
  return profileChange(
    fold.profile,
    {
      kind: 'merge',
      absorbedProfileIds: [fold.absorbedProfileId],
      changedTraits: fold.changedTraits,
      messageId: merge.messageId,
      receivedAt: merge.receivedAt,
    },
    fold.at,
    traitValues(defs, fold.custom, fold.at),
  );
}
