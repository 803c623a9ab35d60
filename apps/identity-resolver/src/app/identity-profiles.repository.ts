import { Injectable } from '@nestjs/common';
import type { AnyBulkWriteOperation, IndexDescription, UpdateFilter } from 'mongodb';
import { identifierDigest, type Identifier } from '@cdp/identity-graph';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import { CoalescedWrites, perWorkspace, updatesApplied } from './coalesced-writes';

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

/** When an identifier was added, by the causing event's time; keyed by `identifierDigest` (no values stored). */
export type StampMap = Record<string, { type: string; at: number }>;

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
  /** Event times of the identifiers held (own and absorbed), for windowed limits; absent on old documents. */
  stamps?: StampMap;
}

export type MergeOutcome = { status: 'merged' | 'already'; merge: MergeInfo } | { status: 'conflict' };

/** Collection `identity_profiles`. */
@Injectable()
export class IdentityProfilesRepository extends WorkspaceRepository<IdentityProfileDoc> {
  /**
   * The per-event updates below (ensure, merge pointer, counts) of concurrent resolutions, sent
   * as one bulk; each falls back to its own command when the bulk cannot tell it applied.
   */
  private readonly updates = new CoalescedWrites<{ ws: string; op: AnyBulkWriteOperation<IdentityProfileDoc> }>((ops) =>
    perWorkspace(ops, async (ws, group) =>
      updatesApplied(
        group.length,
        await this.bulkWrite(
          ws,
          group.map((o) => o.op),
        ),
      ),
    ),
  );

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
   * Compare-and-set of the absorbed profile's pointer: only a profile not merged yet can be.
   * If it already points at `into` (a concurrent instance made the same merge), that is fine;
   * if it points elsewhere, the caller re-resolves.
   */
  async markMerged(workspaceId: string, from: string, into: string, merge: MergeInfo): Promise<MergeOutcome> {
    if (await this.coalesced(workspaceId, { profileId: from, mergedInto: null }, { $set: { mergedInto: into, merge } }))
      return { status: 'merged', merge };
    // Not known to have applied: decided by a command of its own (a pointer the bulk set to `into` is 'already').
    const result = await this.updateOne(workspaceId, { profileId: from, mergedInto: null }, { $set: { mergedInto: into, merge } });
    if (result.matchedCount === 1) return { status: 'merged', merge };
    const [current] = await this.findMany(workspaceId, [from]);
    if (current?.mergedInto === into && current.merge) return { status: 'already', merge: current.merge };
    return { status: 'conflict' };
  }

  /** Adds an absorbed profile's counts and stamps to the survivor, once per absorbed profile. */
  async absorbCounts(
    workspaceId: string,
    into: string,
    from: string,
    counts: Record<string, number>,
    stamps: StampMap = {},
  ): Promise<void> {
    const inc = Object.fromEntries(
      Object.entries(counts)
        .filter(([, n]) => n !== 0)
        .map(([type, n]) => [`counts.${type}`, n]),
    );
    const set = Object.fromEntries(Object.entries(stamps).map(([digest, stamp]) => [`stamps.${digest}`, stamp]));
    const update = {
      $addToSet: { absorbed: from },
      ...(Object.keys(inc).length > 0 ? { $inc: inc } : {}),
      ...(Object.keys(set).length > 0 ? { $set: set } : {}),
    } as UpdateFilter<IdentityProfileDoc>;
    if (await this.coalesced(workspaceId, { profileId: into, absorbed: { $ne: from } }, update)) return;
    await this.updateOne(workspaceId, { profileId: into, absorbed: { $ne: from } }, update);
  }

  /** Counts an identifier attached to the profile at event time `at`, once per identifier. */
  async countIdentifier(workspaceId: string, profileId: string, id: Identifier, at: number): Promise<void> {
    const digest = identifierDigest(id);
    await this.updateOne(workspaceId, { profileId, counted: { $ne: digest } }, {
      $inc: { [`counts.${id.type}`]: 1 },
      $addToSet: { counted: digest },
      $set: { [`stamps.${digest}`]: { type: id.type, at } },
    } as UpdateFilter<IdentityProfileDoc>);
  }

  /**
   * `countIdentifier` for several identifiers in one update when none of them is counted yet (the
   * usual case); otherwise (a redelivery after a partial write) one by one.
   */
  async countIdentifiers(workspaceId: string, profileId: string, ids: Identifier[], at: number): Promise<void> {
    if (ids.length === 0) return;
    // Through the shared bulk first; when it cannot tell (a redelivery, say), the guarded commands below.
    if (await this.coalesced(workspaceId, { profileId, counted: { $nin: ids.map(identifierDigest) } }, countUpdate(ids, at))) return;
    if (ids.length <= 1) {
      for (const id of ids) await this.countIdentifier(workspaceId, profileId, id, at);
      return;
    }
    const result = await this.updateOne(workspaceId, { profileId, counted: { $nin: ids.map(identifierDigest) } }, countUpdate(ids, at));
    if (result.matchedCount === 1) return;
    for (const id of ids) await this.countIdentifier(workspaceId, profileId, id, at);
  }

  /**
   * Takes a removed identifier out of the counts: from the canonical profile's count and stamps,
   * and from `counted` of the profile it was attached to, so attaching it again counts again.
   */
  async uncountIdentifier(workspaceId: string, canonical: string, attachedTo: string, id: Identifier): Promise<void> {
    const digest = identifierDigest(id);
    await this.updateOne(workspaceId, { profileId: canonical }, {
      $inc: { [`counts.${id.type}`]: -1 },
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

/** Counts identifiers none of which is counted yet: per type, their digests, their stamps at `at`. */
function countUpdate(ids: Identifier[], at: number): UpdateFilter<IdentityProfileDoc> {
  const digests = ids.map(identifierDigest);
  const inc: Record<string, number> = {};
  for (const id of ids) inc[`counts.${id.type}`] = (inc[`counts.${id.type}`] ?? 0) + 1;
  const set = Object.fromEntries(ids.map((id, i) => [`stamps.${digests[i]}`, { type: id.type, at }]));
  return { $inc: inc, $addToSet: { counted: { $each: digests } }, $set: set } as UpdateFilter<IdentityProfileDoc>;
}
