import { Injectable } from '@nestjs/common';
import type { IndexDescription, UpdateFilter } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import { blockingKeys, type PreparedRecord } from '@cdp/record-linkage';
import type { Block } from './fuzzy-decision';

/** What fuzzy matching knows of a profile's person: the prepared record of its latest eligible identify call. */
export interface LinkageRecordDoc extends WorkspaceDocument {
  profileId: string;
  record: PreparedRecord;
  updatedAt: Date;
}

/** Collection `identity_linkage`: one per profile, `_id` = workspace:profileId, read by `_id` only. */
@Injectable()
export class LinkageRecordsRepository extends WorkspaceRepository<LinkageRecordDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_linkage', ['profileId']);
  }

  indexes(): IndexDescription[] {
    return [];
  }

  findMany(workspaceId: string, profileIds: string[]): Promise<LinkageRecordDoc[]> {
    if (profileIds.length === 0) return Promise.resolve([]);
    return this.find(workspaceId, { profileId: { $in: profileIds } }, { projection: { _id: 0 } });
  }

  /**
   * Deletes the records of erased profiles stored no later than `before` (a person re-created since
   * stays), after taking each profile out of the blocks its record's keys name.
   */
  async erase(
    workspaceId: string,
    profileIds: string[],
    before: Date,
    leaveBlocks: (keys: string[], profileId: string) => Promise<void>,
  ): Promise<void> {
    for (const doc of await this.findMany(workspaceId, profileIds)) {
      if (doc.updatedAt > before) continue;
      await leaveBlocks(blockingKeys(doc.record), doc.profileId);
      await this.deleteMany(workspaceId, { profileId: doc.profileId, updatedAt: { $lte: before } });
    }
  }

  /** The latest eligible identify call wins (`$set`: FerretDB's `$setOnInsert` would drop empty arrays). */
  async put(workspaceId: string, profileId: string, record: PreparedRecord): Promise<void> {
    await this.updateOne(workspaceId, { profileId }, { $set: { record, updatedAt: new Date() } }, { upsert: true });
  }
}

export interface BlockDoc extends WorkspaceDocument, Block {}

/** Collection `identity_blocks`: one per blocking key, `_id` = workspace:key, holding up to the cap + 1 profile ids. */
@Injectable()
export class BlockingKeysRepository extends WorkspaceRepository<BlockDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_blocks', ['key']);
  }

  indexes(): IndexDescription[] {
    return [];
  }

  async findMany(workspaceId: string, keys: string[]): Promise<Block[]> {
    if (keys.length === 0) return [];
    const docs = await this.find(workspaceId, { key: { $in: keys } }, { projection: { _id: 0, key: 1, profileIds: 1 } });
    return docs.map((d) => ({ key: d.key, profileIds: d.profileIds ?? [] }));
  }

  async remove(workspaceId: string, keys: string[], profileId: string): Promise<void> {
    for (const key of keys)
      await this.updateOne(workspaceId, { key }, { $pull: { profileIds: profileId } } as unknown as UpdateFilter<BlockDoc>);
  }

  /** Adds the profile under each key (concurrent adders may overshoot the cap by a few: harmless). */
  async add(workspaceId: string, keys: string[], profileId: string): Promise<void> {
    await this.upsertEach(
      workspaceId,
      keys.map((key) => ({ filter: { key }, update: { $addToSet: { profileIds: profileId } } })),
    );
  }
}
