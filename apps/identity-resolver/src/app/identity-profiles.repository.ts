import { Injectable } from '@nestjs/common';
import type { IndexDescription, UpdateFilter } from 'mongodb';
import { identifierDigest, type Identifier } from '@cdp/identity-graph';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/** How an absorbed profile was merged; kept so a merge can be explained and re-emitted. */
export interface MergeInfo {
  mergeId: string;
  reason: string;
  identifiers: Identifier[];
  messageId: string | null;
  mergedAt: Date;
  receivedAt: Date | null;
}

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
}

export type MergeOutcome = { status: 'merged' | 'already'; merge: MergeInfo } | { status: 'conflict' };

/** Collection `identity_profiles`. */
@Injectable()
export class IdentityProfilesRepository extends WorkspaceRepository<IdentityProfileDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_profiles', ['profileId']);
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
    await this.updateOne(
      workspaceId,
      { profileId },
      { $setOnInsert: { createdAt, mergedInto: null, merge: null, counts: {}, counted: [], absorbed: [] } },
      { upsert: true },
    );
  }

  /**
   * Compare-and-set of the absorbed profile's pointer: only a profile not merged yet can be.
   * If it already points at `into` (a concurrent instance made the same merge), that is fine;
   * if it points elsewhere, the caller re-resolves.
   */
  async markMerged(workspaceId: string, from: string, into: string, merge: MergeInfo): Promise<MergeOutcome> {
    const result = await this.updateOne(workspaceId, { profileId: from, mergedInto: null }, { $set: { mergedInto: into, merge } });
    if (result.matchedCount === 1) return { status: 'merged', merge };
    const [current] = await this.findMany(workspaceId, [from]);
    if (current?.mergedInto === into && current.merge) return { status: 'already', merge: current.merge };
    return { status: 'conflict' };
  }

  /** Adds an absorbed profile's counts to the survivor, once per absorbed profile. */
  async absorbCounts(workspaceId: string, into: string, from: string, counts: Record<string, number>): Promise<void> {
    const inc = Object.fromEntries(
      Object.entries(counts)
        .filter(([, n]) => n !== 0)
        .map(([type, n]) => [`counts.${type}`, n]),
    );
    const update = {
      $addToSet: { absorbed: from },
      ...(Object.keys(inc).length > 0 ? { $inc: inc } : {}),
    } as UpdateFilter<IdentityProfileDoc>;
    await this.updateOne(workspaceId, { profileId: into, absorbed: { $ne: from } }, update);
  }

  /** Counts an identifier attached to the profile, once per identifier. */
  async countIdentifier(workspaceId: string, profileId: string, id: Identifier): Promise<void> {
    const digest = identifierDigest(id);
    await this.updateOne(workspaceId, { profileId, counted: { $ne: digest } }, {
      $inc: { [`counts.${id.type}`]: 1 },
      $addToSet: { counted: digest },
    } as UpdateFilter<IdentityProfileDoc>);
  }
}
