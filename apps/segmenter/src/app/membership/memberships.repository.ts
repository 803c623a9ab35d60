import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { indexesBy } from '@cdp/platform';
import { Coalescer, duplicateKeyIndexes, isDuplicateKey, MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';
import { byProfileAndSegment } from '../by-profile-and-segment';
import { stateAfter, type MembershipState, type Transition } from './transition';

export interface MembershipDocument extends WorkspaceDocument, MembershipState {
  segmentId: string;
  profileId: string;
  updatedAt: Date;
}

/** One document per workspace + segment + profile (collection `segment_memberships`). */
@Injectable()
export class MembershipsRepository extends WorkspaceRepository<MembershipDocument> {
  /** First transitions (inserts) of concurrent evaluations, one unordered insert per workspace and batch. */
  private readonly inserts = new Coalescer<MembershipDocument, boolean>((docs) => this.insertAll(docs));

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_memberships', ['segmentId', 'profileId']);
  }

  indexes(): IndexDescription[] {
    return [
      { key: { workspaceId: 1, segmentId: 1, profileId: 1 }, name: 'workspace_segment_profile', unique: true },
      { key: { workspaceId: 1, profileId: 1 }, name: 'workspace_profile' },
    ];
  }

  /** The stored memberships of a profile in the given segments, by segment id. */
  async forProfile(workspaceId: string, profileId: string, segmentIds: string[]): Promise<Map<string, MembershipDocument>> {
    if (segmentIds.length === 0) return new Map();
    const docs = await this.find(workspaceId, { profileId, segmentId: { $in: segmentIds } }, { projection: { _id: 0 } });
    return new Map(docs.map((d) => [d.segmentId, d]));
  }

  /**
   * The stored memberships of these profiles in these segments, by profile id then segment id:
   * reads by document id, in as few queries as the id lists allow.
   */
  async forProfiles(
    workspaceId: string,
    profileIds: string[],
    segmentIds: string[],
  ): Promise<Map<string, Map<string, MembershipDocument>>> {
    return byProfileAndSegment(
      await this.findCombinations(workspaceId, ['profileId', profileIds], ['segmentId', segmentIds], { projection: { _id: 0 } }),
    );
  }

  /**
   * Stores a transition over `stored` (its earlier transitions are kept) with compare-and-set:
   * only if the membership is still at `expectedVersion` (null: does not exist yet) and has not
   * seen a newer profile version.
   * False when another writer got there first; the caller re-reads and decides again.
   */
  async applyTransition(
    workspaceId: string,
    segmentId: string,
    profileId: string,
    expectedVersion: number | null,
    t: Transition,
    stored: MembershipState | null,
  ): Promise<boolean> {
    const state = { ...stateAfter(t, stored), updatedAt: new Date(t.occurredAt) };
    if (expectedVersion === null) return this.inserts.ask({ workspaceId, segmentId, profileId, ...state });
    const result = await this.updateOne(
      workspaceId,
      {
        segmentId,
        profileId,
        membershipVersion: expectedVersion,
        // The trigger (profileVersion, asOf) must be newer than the one of the stored transition.
        $or: [{ lastProfileVersion: { $lt: t.profileVersion } }, { lastProfileVersion: t.profileVersion, lastAsOf: { $lt: t.asOf ?? 0 } }],
      },
      { $set: state },
    );
    return result.matchedCount === 1;
  }

  /** Inserts the documents; per document, false when it lost to an existing one (duplicate key). */
  private async insertAll(docs: MembershipDocument[]): Promise<boolean[]> {
    const inserted = docs.map(() => true);
    const byWorkspace = indexesBy(docs, (d) => d.workspaceId);
    await Promise.all(
      [...byWorkspace].map(async ([workspaceId, indexes]) => {
        try {
          await this.bulkWrite(
            workspaceId,
            indexes.map((i) => ({ insertOne: { document: docs[i] as MembershipDocument } })),
          );
        } catch (e) {
          // The other inserts of an unordered insert still ran.
          if (!isDuplicateKey(e)) throw e;
          for (const j of duplicateKeyIndexes(e)) inserted[indexes[j] as number] = false;
        }
      }),
    );
    return inserted;
  }

  /** Current members of a segment, ordered by profile id, after the cursor. */
  members(workspaceId: string, segmentId: string, after: string | undefined, limit: number): Promise<MembershipDocument[]> {
    const filter = after ? { segmentId, member: true, profileId: { $gt: after } } : { segmentId, member: true };
    return this.find(workspaceId, filter, { projection: { _id: 0 }, sort: { profileId: 1 }, limit });
  }

  /** Removes these profiles' memberships of one segment (by `_id`). */
  async removeProfiles(workspaceId: string, segmentId: string, profileIds: string[]): Promise<void> {
    if (profileIds.length === 0) return;
    await this.deleteMany(workspaceId, { segmentId, profileId: { $in: [...new Set(profileIds)] } });
  }

  async removeSegment(workspaceId: string, segmentId: string): Promise<void> {
    await this.deleteMany(workspaceId, { segmentId });
  }
}
