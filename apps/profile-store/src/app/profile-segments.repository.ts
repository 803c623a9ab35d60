import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import type { MembershipUpdate } from '@cdp/profile-model';

/** The segmenter's latest word on one profile in one segment (read model of cdp.segments.changes.v1). */
export interface ProfileSegmentDoc extends WorkspaceDocument {
  profileId: string;
  segmentId: string;
  segmentName: string;
  member: boolean;
  membershipVersion: number;
  changedAt: number;
}

/** `profile_segments`: one document per workspace + profile + segment. */
@Injectable()
export class ProfileSegmentsRepository extends WorkspaceRepository<ProfileSegmentDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_segments', ['profileId', 'segmentId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, profileId: 1, segmentId: 1 }, name: 'workspace_profile_segment', unique: true }];
  }

  /** Applies each update only over an older membershipVersion (in one read and two bulk writes). */
  async apply(workspaceId: string, updates: MembershipUpdate[]): Promise<void> {
    await this.saveNewest(
      workspaceId,
      updates.map((u) => ({
        profileId: u.profileId,
        segmentId: u.segmentId,
        segmentName: u.segmentName,
        member: u.member,
        membershipVersion: u.membershipVersion,
        changedAt: u.occurredAt,
      })),
      'membershipVersion',
    );
  }

  /** The segments these profile ids are members of, by name. */
  memberOf(workspaceId: string, profileId: string): Promise<ProfileSegmentDoc[]> {
    return this.find(workspaceId, { profileId, member: true }, { sort: { segmentName: 1, segmentId: 1 }, projection: { _id: 0 } });
  }

  /** Every membership document of these profile ids, current or ended (for an export). */
  allOf(workspaceId: string, profileIds: string[]): Promise<ProfileSegmentDoc[]> {
    return this.find(workspaceId, { profileId: { $in: profileIds } }, { sort: { segmentName: 1, segmentId: 1 }, projection: { _id: 0 } });
  }

  async erase(workspaceId: string, profileIds: string[]): Promise<void> {
    await this.deleteMany(workspaceId, { profileId: { $in: profileIds } });
  }
}
