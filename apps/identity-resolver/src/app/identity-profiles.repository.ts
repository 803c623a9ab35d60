import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AnyBulkWriteOperation, IndexDescription, UpdateFilter } from 'mongodb';
import { identifierDigest, type Identifier } from '@cdp/identity-graph';
import { coalescedUpdates, MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import { capsFilter, countByType, mergesAddedBy, mergesCapFilter, type CountCaps } from './count-guards';
import { MAX_CHAIN, ProfileGraph } from './profile-graph';

/** Why two profiles were merged: the rule that linked them. */
export type MergeReason = 'shared_identifier' | 'alias' | 'fuzzy_match';

/** A probabilistic match's score and what each compared field contributed (for fuzzy merges). */
export interface MergeScore {
  total: number;
  /** Each compared field: its agreement level (agree, partial, disagree) and the bits it added. */
  fields: { field: string; level?: string; weight: number }[];
}

/** How an absorbed profile was merged; kept so a merge can be explained and re-emitted. */
export interface MergeInfo {
  mergeId: string;
  /** The rule (a `MergeReason`, or a later one such as `fuzzy_match`). */
  reason: string;
  /** The event's identifiers that linked the two profiles. */
  identifiers: Identifier[];
  messageId: string | null;
  mergedAt: Date;
  receivedAt: Date | null;
  /** Event time of the causing event (absent on merges stored before it was kept). */
  timestamp?: Date | null;
  /** Only on probabilistic merges. */
  score?: MergeScore | null;
  /** A fuzzy merge accepted from the review queue (not an automatic one). */
  reviewed?: boolean;
}

/**
 * When an identifier was added, by the causing event's time; keyed by `identifierDigest` (no values
 * stored). `r`: the reservation (`reserveCounts` call) that counted it.
 */
export type StampMap = Record<string, { type: string; at: number; r?: string }>;

/** A node of the identity graph: a profile, or a pointer to the profile that absorbed it. */
export interface IdentityProfileDoc extends WorkspaceDocument {
  profileId: string;
  createdAt: Date;
  /** Set once, by compare-and-set from null. */
  mergedInto: string | null;
  merge: MergeInfo | null;
  /** Identifiers per type held by this profile (and the ones it absorbed). */
  counts: Record<string, number>;
  /** Digests of the identifiers already counted, so a redelivered count is not counted twice. */
  counted: string[];
  /** Profiles whose counts were added here, for the same reason. */
  absorbed: string[];
  /**
   * Profiles merged into this one, with the ones they had absorbed (absent: none since it was
   * kept). Goes with the counts (added and taken out with them) for the `maxMerges` rule; where
   * counts are taken out of a later survivor it stays (stricter).
   */
  merges?: number;
  /** Event times of the identifiers held (own and absorbed), for windowed limits; absent on old documents. */
  stamps?: StampMap;
  /**
   * Bumped by every change of `counts` (absent until the first), so that a merge's compare-and-set
   * can tell that the counts it is about to add to the survivor are still this profile's counts.
   */
  countsVersion?: number;
  /** Per absorbed profile: the counts version absorbed, its counts and merges then (absent on merges stored before). */
  absorbedFrom?: Record<string, AbsorbedSlot>;
}

type AbsorbedSlot = { version: number; counts: Record<string, number>; merges?: number };

/** What comes out of the canonical profile when counts are taken out of one merged into it: counts, stamps by digest, merges. */
type SurvivorPart = { counts: Record<string, number>; stamps: string[]; merges: number };

/** What a merge adds to the survivor: the absorbed profile's counts as read. */
export type AbsorbedProfile = Pick<IdentityProfileDoc, 'profileId' | 'counts' | 'stamps' | 'countsVersion' | 'merges'>;

export type MergeOutcome = { status: 'merged' | 'already'; merge: MergeInfo } | { status: 'conflict' };

/** Collection `identity_profiles`. */
@Injectable()
export class IdentityProfilesRepository extends WorkspaceRepository<IdentityProfileDoc> {
  /**
   * The per-event updates below (ensure, merge pointer, counts) of concurrent resolutions, sent
   * as one bulk; each falls back to its own command when the bulk cannot tell it applied.
   */
  private readonly updates = coalescedUpdates<IdentityProfileDoc>((ws, ops) => this.bulkWrite(ws, ops));

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_profiles', ['profileId']);
  }

  /** One guarded update (or upsert) through the shared bulk: true when it applied (matched or upserted). */
  private async coalesced(
    workspaceId: string,
    filter: Record<string, unknown>,
    update: UpdateFilter<IdentityProfileDoc>,
    upsert = false,
  ): Promise<boolean> {
    return this.updates.run([
      { ws: workspaceId, op: { updateOne: { filter, update, upsert } } as AnyBulkWriteOperation<IdentityProfileDoc> },
    ]);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, profileId: 1 }, name: 'identity_profile_unique', unique: true }];
  }

  findMany(workspaceId: string, profileIds: string[]): Promise<IdentityProfileDoc[]> {
    if (profileIds.length === 0) return Promise.resolve([]);
    return this.find(workspaceId, { profileId: { $in: profileIds } }, { projection: { _id: 0 } });
  }

  /** Creates the profile if it does not exist; the first writer's createdAt stays. */
  async ensure(workspaceId: string, profileId: string, createdAt: Date): Promise<void> {
    const update = { $setOnInsert: { createdAt, mergedInto: null, merge: null, counts: {}, counted: [], absorbed: [] } };
    if (await this.coalesced(workspaceId, { profileId }, update, true)) return;
    await this.updateOne(workspaceId, { profileId }, update, { upsert: true });
  }

  /**
   * Compare-and-set of the absorbed profile's pointer: only a profile not merged yet, with the
   * counts version the caller read (`countsVersion`), can be. If it already points at `into` (a
   * concurrent instance made the same merge), that is fine; otherwise the caller re-resolves.
   */
  async markMerged(
    workspaceId: string,
    from: string,
    into: string,
    merge: MergeInfo,
    countsVersion: number | undefined,
  ): Promise<MergeOutcome> {
    const filter = { profileId: from, mergedInto: null, countsVersion: countsVersion ?? { $exists: false } };
    if (await this.coalesced(workspaceId, filter, { $set: { mergedInto: into, merge } })) return { status: 'merged', merge };
    // Not known to have applied: decided by a command of its own (a pointer the bulk set to `into` is 'already').
    const result = await this.updateOne(workspaceId, filter, { $set: { mergedInto: into, merge } });
    if (result.matchedCount === 1) return { status: 'merged', merge };
    const [current] = await this.findMany(workspaceId, [from]);
    if (current?.mergedInto === into && current.merge) return { status: 'already', merge: current.merge };
    return { status: 'conflict' };
  }

  /**
   * Adds an absorbed profile's counts, stamps and merges (as read, at its counts version) to the
   * survivor, once per absorbed profile, while the survivor is live, its counts within `caps` and
   * its merges within `mergesCap` (see count-guards): false when not. The survivor keeps which version it absorbed: the same merge by
   * another instance, or a redelivery, with a newer read of `from` takes the older one's place
   * (only the newest can still win the pointer's compare-and-set), and one with an older read is
   * refused (decided again).
   */
  async absorbCounts(
    workspaceId: string,
    into: string,
    from: AbsorbedProfile,
    caps: CountCaps,
    mergesCap = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    const version = from.countsVersion ?? 0;
    const slot = `absorbedFrom.${from.profileId}`;
    const set = {
      ...Object.fromEntries(Object.entries(from.stamps ?? {}).map(([digest, stamp]) => [`stamps.${digest}`, stamp])),
      [slot]: { version, counts: from.counts, merges: from.merges ?? 0 },
    };
    const update = {
      $addToSet: { absorbed: from.profileId },
      $inc: countIncrements(from.counts, 1, 1 + (from.merges ?? 0)),
      $set: set,
    } as UpdateFilter<IdentityProfileDoc>;
    const filter = {
      profileId: into,
      mergedInto: null,
      absorbed: { $ne: from.profileId },
      ...capsFilter(caps),
      ...mergesCapFilter(mergesCap),
    };
    if (await this.coalesced(workspaceId, filter, update)) return true;
    if ((await this.updateOne(workspaceId, filter, update)).matchedCount === 1) return true;
    // Absorbed before (a redelivery, or the same merge by another instance), merged elsewhere, or over a cap.
    const [survivor] = await this.findMany(workspaceId, [into]);
    if (!survivor) return true;
    if (!(survivor.absorbed ?? []).includes(from.profileId)) return false;
    const before = survivor.absorbedFrom?.[from.profileId];
    // Absorbed before versions were kept, or at this very version.
    if (!before || before.version === version) return true;
    return before.version < version && this.replaceAbsorbed(workspaceId, into, from, before, caps, mergesCap, set);
  }

  /** Our read of `from` is newer than the one absorbed: the difference replaces it, within the same limits. */
  private async replaceAbsorbed(
    workspaceId: string,
    into: string,
    from: AbsorbedProfile,
    before: AbsorbedSlot,
    caps: CountCaps,
    mergesCap: number,
    set: Record<string, unknown>,
  ): Promise<boolean> {
    const types = new Set([...Object.keys(from.counts), ...Object.keys(before.counts)]);
    const delta = Object.fromEntries([...types].map((type) => [type, (from.counts[type] ?? 0) - (before.counts[type] ?? 0)]));
    const inc = countIncrements(delta, 1, 1 + (from.merges ?? 0) - mergesAddedBy(before));
    // The caps were set for all of `from`'s counts and merges; the survivor already holds `before`'s.
    const widened = Object.fromEntries(Object.entries(caps).map(([type, cap]) => [type, cap + (before.counts[type] ?? 0)]));
    const filter = {
      profileId: into,
      mergedInto: null,
      [`absorbedFrom.${from.profileId}.version`]: before.version,
      ...capsFilter(widened),
      ...mergesCapFilter(mergesCap + mergesAddedBy(before)),
    };
    const result = await this.updateOne(workspaceId, filter, { $inc: inc, $set: set } as UpdateFilter<IdentityProfileDoc>);
    return result.matchedCount === 1;
  }

  /**
   * Takes an absorbed profile's counts back out of the survivor: its merge lost the pointer's
   * compare-and-set. Only the version this merge absorbed (a newer read may have taken its place).
   */
  async unabsorbCounts(workspaceId: string, into: string, from: AbsorbedProfile): Promise<void> {
    const { profileId, counts } = from;
    const stamps = Object.keys(from.stamps ?? {});
    const version = from.countsVersion ?? 0;
    // What the absorb added to the survivor's merges. A slot only ever gives way to a newer
    // version, so this read of it stays true for the version guarded below.
    const [survivor] = await this.findMany(workspaceId, [into]);
    const slot = survivor?.absorbedFrom?.[profileId];
    if (slot?.version !== version) return;
    const merges = mergesAddedBy(slot);
    const inc = countIncrements(counts, -1, merges);
    const unset = Object.fromEntries([`absorbedFrom.${profileId}`, ...stamps.map((digest) => `stamps.${digest}`)].map((f) => [f, '']));
    const update = {
      $pull: { absorbed: profileId },
      $inc: inc,
      $unset: unset,
    } as unknown as UpdateFilter<IdentityProfileDoc>;
    const guard = { absorbed: profileId, [`absorbedFrom.${profileId}.version`]: version };
    await this.takeOut(workspaceId, into, guard, update, () => ({ counts, stamps, merges }));
  }

  /**
   * Counts identifiers before they are claimed for the profile (the claim may still be lost: then
   * `releaseCounts`), while it is live and its counts are within `caps`: false when a concurrent
   * merge or attach got there first, with nothing of this call left counted. Counts only ever
   * change on live profiles: the compare-and-set of a merge then sees every change of the absorbed
   * counts. Identifiers counted before (a redelivery after a partial write, or a concurrent
   * resolution of another event) stay counted once.
   */
  async reserveCounts(workspaceId: string, profileId: string, ids: Identifier[], at: number, caps: CountCaps): Promise<boolean> {
    if (ids.length === 0) return true;
    // Stamped on what this call counts, so that it can tell its own bulk's work from anyone else's.
    const reservation = randomBytes(8).toString('hex');
    // Through the shared bulk first; when it cannot tell (a redelivery, a limit), one identifier at a time.
    const filter = { profileId, mergedInto: null, counted: { $nin: ids.map(identifierDigest) }, ...capsFilter(caps) };
    if (await this.coalesced(workspaceId, filter, countUpdate(ids, at, reservation))) return true;
    const adding = countByType(ids);
    const counted: Identifier[] = [];
    const unmatched: string[] = [];
    for (const id of ids) {
      const digest = identifierDigest(id);
      const cap = caps[id.type];
      // The cap for one more of this type, from the cap for all of them.
      const oneCap = cap === undefined ? {} : { [id.type]: cap + (adding[id.type] ?? 1) - 1 };
      const result = await this.updateOne(
        workspaceId,
        { profileId, mergedInto: null, counted: { $ne: digest }, ...capsFilter(oneCap) },
        countUpdate([id], at, reservation),
      );
      if (result.matchedCount === 1) counted.push(id);
      else unmatched.push(digest);
    }
    if (unmatched.length === 0) return true;
    // One read tells the identifiers counted before (often by the very bulk that could not tell) from a refusal.
    const [doc] = await this.findMany(workspaceId, [profileId]);
    if (!doc) return true;
    // `?? []`: FerretDB's $setOnInsert leaves empty arrays out of a new document.
    if (unmatched.every((digest) => (doc.counted ?? []).includes(digest))) return true;
    // This call's bulk counted them all (one update), and a concurrent resolution that found one
    // counted and lost its claim has taken that one out since: the rest are this call's to settle
    // by its claims, not a refusal, which would leave them counted for nobody.
    if (unmatched.some((digest) => doc.stamps?.[digest]?.r === reservation)) return true;
    await this.releaseCounts(workspaceId, profileId, counted);
    return false;
  }

  /**
   * Takes identifiers counted for the profile but not claimed by it out of its counts (once each).
   * `owners[i]`: the profile that won the claim of `ids[i]`; its stamp stays where that profile
   * ended up (see `takeOut`).
   */
  async releaseCounts(workspaceId: string, profileId: string, ids: Identifier[], owners: (string | undefined)[] = []): Promise<void> {
    // A lost claim race is common (one person's devices on several partitions): through the shared bulk.
    await Promise.all(
      ids.map(async (id, i) => {
        const digest = identifierDigest(id);
        const update = {
          $inc: { [`counts.${id.type}`]: -1, countsVersion: 1 },
          $pull: { counted: digest },
          $unset: { [`stamps.${digest}`]: '' },
        } as unknown as UpdateFilter<IdentityProfileDoc>;
        await this.takeOut(workspaceId, profileId, { counted: digest }, update, async (canonical) => {
          const owner = owners[i];
          const keepStamp = owner !== undefined && (await this.canonicalOf(workspaceId, owner)) === canonical;
          return { counts: { [id.type]: 1 }, stamps: keepStamp ? [] : [digest], merges: 0 };
        });
      }),
    );
  }

  /**
   * Applies `update` (which takes counts out) to `profileId` once, as `guard` tells. Counts only
   * change on live profiles, so a merge's compare-and-set sees every change before it: when the
   * profile was merged since the counts went in, its survivor absorbed them, and they come out of
   * the canonical profile as well (what `survivorPart` says, given the canonical id). A crash in
   * between leaves the survivor over-counted: stricter, never looser.
   */
  private async takeOut(
    workspaceId: string,
    profileId: string,
    guard: Record<string, unknown>,
    update: UpdateFilter<IdentityProfileDoc>,
    survivorPart: (canonical: string) => SurvivorPart | Promise<SurvivorPart>,
  ): Promise<void> {
    const live = { profileId, mergedInto: null, ...guard };
    if (await this.coalesced(workspaceId, live, update)) return;
    if ((await this.updateOne(workspaceId, live, update)).matchedCount === 1) return;
    // Not live, or taken out before (a redelivery): the guard tells which, once.
    if ((await this.updateOne(workspaceId, { profileId, mergedInto: { $ne: null }, ...guard }, update)).matchedCount === 0) return;
    for (let attempt = 0; attempt < MAX_CHAIN; attempt++) {
      const canonical = await this.canonicalOf(workspaceId, profileId);
      if (canonical === undefined) return; // erased meanwhile
      const { counts, stamps, merges } = await survivorPart(canonical);
      const inc = countIncrements(counts, -1, merges);
      const unset = Object.fromEntries(stamps.map((digest) => [`stamps.${digest}`, '']));
      if (Object.keys(inc).length === 0 && stamps.length === 0) return;
      const result = await this.updateOne(workspaceId, { profileId: canonical, mergedInto: null }, {
        ...(Object.keys(inc).length > 0 ? { $inc: inc } : {}),
        ...(stamps.length > 0 ? { $unset: unset } : {}),
      } as unknown as UpdateFilter<IdentityProfileDoc>);
      // Not matched: merged in turn meanwhile, into a survivor that absorbed these counts too.
      if (result.matchedCount === 1) return;
    }
    throw new Error(`counts of ${profileId} could not be taken out of its survivor`);
  }

  /** The canonical (live) profile `profileId` leads to, or undefined when one on the way is missing. */
  private async canonicalOf(workspaceId: string, profileId: string): Promise<string | undefined> {
    return (await ProfileGraph.load([profileId], (ids) => this.findMany(workspaceId, ids))).canonical(profileId);
  }

  /**
   * Takes a removed identifier out of the counts: from the canonical profile's count and stamps,
   * and from `counted` of the profile it was attached to, so attaching it again counts again.
   */
  async uncountIdentifier(workspaceId: string, canonical: string, attachedTo: string, id: Identifier): Promise<void> {
    const digest = identifierDigest(id);
    await this.updateOne(workspaceId, { profileId: canonical }, {
      $inc: { [`counts.${id.type}`]: -1, countsVersion: 1 },
      $unset: { [`stamps.${digest}`]: '' },
    } as UpdateFilter<IdentityProfileDoc>);
    await this.updateOne(workspaceId, { profileId: attachedTo }, {
      $pull: { counted: digest },
      $unset: { [`stamps.${digest}`]: '' },
    } as unknown as UpdateFilter<IdentityProfileDoc>);
  }

  /** Profiles merged into any of `profileIds` (a collection scan: for erasures, not per event). */
  async absorbedInto(workspaceId: string, profileIds: string[]): Promise<string[]> {
    if (profileIds.length === 0) return [];
    const docs = await this.find(workspaceId, { mergedInto: { $in: profileIds } }, { projection: { _id: 0, profileId: 1 } });
    return docs.map((d) => d.profileId);
  }

  /** Deletes the profiles created no later than `before` (so a profile re-created after an erasure stays). */
  async deleteProfiles(workspaceId: string, profileIds: string[], before: Date): Promise<number> {
    if (profileIds.length === 0) return 0;
    return (await this.deleteMany(workspaceId, { profileId: { $in: profileIds }, createdAt: { $lte: before } })).deletedCount;
  }
}

/**
 * `counts` and `merges` as `$inc` fields, times `sign`, with the version bump (a merge's
 * compare-and-set must see every change of either); zeros left out ({} when all are).
 */
function countIncrements(counts: Record<string, number>, sign: 1 | -1, merges = 0): Record<string, number> {
  const inc = [...Object.entries(counts).map(([type, n]) => [`counts.${type}`, n] as const), ['merges', merges] as const]
    .filter(([, n]) => n !== 0)
    .map(([field, n]) => [field, sign * n]);
  return inc.length > 0 ? Object.fromEntries([...inc, ['countsVersion', 1]]) : {};
}

/** Counts identifiers none of which is counted yet: per type, their digests, their stamps at `at` by `reservation`. */
function countUpdate(ids: Identifier[], at: number, reservation: string): UpdateFilter<IdentityProfileDoc> {
  const digests = ids.map(identifierDigest);
  const inc = countIncrements(countByType(ids), 1);
  const set = Object.fromEntries(ids.map((id, i) => [`stamps.${digests[i]}`, { type: id.type, at, r: reservation }]));
  return { $inc: inc, $addToSet: { counted: { $each: digests } }, $set: set } as UpdateFilter<IdentityProfileDoc>;
}
