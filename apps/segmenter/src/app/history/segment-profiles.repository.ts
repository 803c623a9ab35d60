import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { parseTraits } from '../membership/transition';
import { inPages, MongoConnection, readAhead, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';

export interface SegmentProfileDocument extends WorkspaceDocument {
  profileId: string;
  version: number;
  /** JSON text of the current traits (keys may hold '.' or '$'). */
  traits: string;
  /** JSON text of the current computed traits; absent on snapshots stored before it existed (read as `{}`). */
  computedTraits?: string;
  deleted: boolean;
  changedAt: number;
  /** The profile's identifiers (copied onto segment changes); absent on snapshots stored before it existed. */
  identifiers?: { type: string; value: string }[];
  /** Where the consumer's evaluation of this profile's changes has got to (see EvaluatedMark). */
  evaluated?: EvaluatedMark;
  /** Set when a merge absorbed the profile: its survivor (the snapshot is then marked deleted); null after a deletion. */
  absorbedInto?: string | null;
}

/**
 * The last cdp.profiles.changes.v1 record of a profile the consumer evaluated to the end
 * (memberships written), set with its chunk's produce: a record at or before it in the same
 * partition, with a version not newer, is a redelivery. Not the version alone: the profile-store
 * can produce an older version after a newer one (a computed-trait backfill next to live writes),
 * and that one arrives for the first time.
 */
export interface EvaluatedMark {
  partition: number;
  offset: number;
  /** The newest version evaluated (guards against offsets starting again in a recreated topic). */
  version: number;
}

export type ProfileSnapshot = Omit<SegmentProfileDocument, 'workspaceId' | 'evaluated'>;

/** What a profile's snapshot held before a save: its version, whether deleted or absorbed, its evaluated mark. */
export type StoredBefore = Partial<Pick<SegmentProfileDocument, 'version' | 'deleted' | 'evaluated' | 'absorbedInto'>>;

/** A snapshot's computed traits as evaluation reads them: `{}` for a snapshot stored before they were kept. */
export const snapshotComputed = (s: Pick<SegmentProfileDocument, 'computedTraits'>): Record<string, unknown> =>
  (s.computedTraits === undefined ? null : parseTraits(s.computedTraits)) ?? {};

/**
 * The segmenter's own read model of current profile traits and computed traits (collection
 * `segment_profiles`), fed from cdp.profiles.changes.v1 and guarded by version, so the timer,
 * backfill and preview need no other service. A deleted profile keeps its document (marked) so an
 * older change cannot revive it.
 */
@Injectable()
export class SegmentProfilesRepository extends WorkspaceRepository<SegmentProfileDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_profiles', ['profileId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, profileId: 1 }, name: 'workspace_profile', unique: true }];
  }

  /**
   * Stores each profile's newest snapshot of the batch unless a newer (or the same) version is
   * already there. Returns, for each snapshot, what the profile's snapshot held before (none: new).
   */
  async saveAll(workspaceId: string, snapshots: ProfileSnapshot[]): Promise<(StoredBefore | undefined)[]> {
    const before = await this.saveNewest(workspaceId, snapshots, 'version', ['deleted', 'evaluated', 'absorbedInto']);
    return before.map((d) => d && { version: d.version, deleted: d.deleted, evaluated: d.evaluated, absorbedInto: d.absorbedInto });
  }

  /** Marks profiles' snapshots absorbed into their survivors (and so deleted), whatever their versions. */
  async markAbsorbed(workspaceId: string, marks: { profileId: string; survivor: string }[]): Promise<void> {
    if (marks.length === 0) return;
    await this.bulkWrite(
      workspaceId,
      marks.map(({ profileId, survivor }) => ({
        updateOne: { filter: { profileId }, update: { $set: { deleted: true, absorbedInto: survivor } } },
      })),
    );
  }

  /** Sets each profile's evaluated mark (its snapshot is stored: after saveAll). */
  async markEvaluated(workspaceId: string, marks: { profileId: string; evaluated: EvaluatedMark }[]): Promise<void> {
    await this.bulkWrite(
      workspaceId,
      marks.map(({ profileId, evaluated }) => ({ updateOne: { filter: { profileId }, update: { $set: { evaluated } } } })),
    );
  }

  /** The snapshots of these profiles (read by `_id`), by profile id. */
  async getMany(workspaceId: string, profileIds: string[]): Promise<Map<string, SegmentProfileDocument>> {
    if (profileIds.length === 0) return new Map();
    const docs = await this.find(workspaceId, { profileId: { $in: profileIds } }, { projection: { _id: 0 } });
    return new Map(docs.map((d) => [d.profileId, d]));
  }

  get(workspaceId: string, profileId: string): Promise<SegmentProfileDocument | null> {
    return this.findOne(workspaceId, { profileId }, { projection: { _id: 0 } });
  }

  /**
   * Every live snapshot, `size` at a time, from one cursor: FerretDB scans the collection for
   * each query (a range on profileId is not pushed down), so paging with a query per page cost a
   * full scan per page (a bare paged scan of 10,000 snapshots ran at 441/s). Unsorted: a sort
   * makes the store read the whole collection before the first page (about 11 s for 100,000),
   * while unsorted pages stream from the start of the scan. The next page is read while the
   * caller works on the current one.
   */
  pages(workspaceId: string, size: number): AsyncGenerator<SegmentProfileDocument[]> {
    const cursor = this.collection.find(this.scope(workspaceId, { deleted: false }), {
      projection: { _id: 0 },
      batchSize: size,
    });
    return readAhead(inPages(cursor, size));
  }

  count(workspaceId: string): Promise<number> {
    return this.collection.countDocuments(this.scope(workspaceId, { deleted: false }));
  }
}
