import { Injectable } from '@nestjs/common';
import type { AnyBulkWriteOperation, IndexDescription, UpdateFilter } from 'mongodb';
import { byWorkspace, CoalescedReads, coalescedUpdates, MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import { blockingKeys, type PreparedRecord } from '@cdp/record-linkage';
import type { Block } from './fuzzy-decision';

/** What fuzzy matching knows of a profile's person: the prepared record of its latest eligible identify call. */
export interface LinkageRecordDoc extends WorkspaceDocument {
  profileId: string;
  record: PreparedRecord;
  updatedAt: Date;
}

/**
 * Collection `identity_linkage`: one per profile, `_id` = workspace:profileId, read by `_id` only.
 * The per-event reads and writes of a chunk's concurrent resolutions go out together.
 */
@Injectable()
export class LinkageRecordsRepository extends WorkspaceRepository<LinkageRecordDoc> {
  private readonly reads = new CoalescedReads<{ ws: string; profileId: string }, LinkageRecordDoc>(
    (keys) =>
      byWorkspace(keys, (ws, ks) =>
        this.findStored(
          ws,
          ks.map((k) => k.profileId),
        ),
      ),
    (k) => `${k.ws}\u0000${k.profileId}`,
    (d) => `${d.workspaceId}\u0000${d.profileId}`,
  );
  private readonly writes = coalescedUpdates<LinkageRecordDoc>((ws, ops) => this.bulkWrite(ws, ops));

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_linkage', ['profileId']);
  }

  indexes(): IndexDescription[] {
    return [];
  }

  findMany(workspaceId: string, profileIds: string[]): Promise<LinkageRecordDoc[]> {
    return this.reads.get(profileIds.map((profileId) => ({ ws: workspaceId, profileId })));
  }

  private findStored(workspaceId: string, profileIds: string[]): Promise<LinkageRecordDoc[]> {
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
    for (const doc of profileIds.length === 0 ? [] : await this.findStored(workspaceId, profileIds)) {
      if (doc.updatedAt > before) continue;
      await leaveBlocks(blockingKeys(doc.record), doc.profileId);
      await this.deleteMany(workspaceId, { profileId: doc.profileId, updatedAt: { $lte: before } });
    }
  }

  /** The latest eligible identify call wins (`$set`: FerretDB's `$setOnInsert` would drop empty arrays). */
  async put(workspaceId: string, profileId: string, record: PreparedRecord): Promise<void> {
    const update = { $set: { record, updatedAt: new Date() } };
    const op = { updateOne: { filter: { profileId }, update, upsert: true } } as AnyBulkWriteOperation<LinkageRecordDoc>;
    // Not known applied (a concurrent upsert's duplicate key stops a FerretDB bulk): on its own.
    if (!(await this.writes.run([{ ws: workspaceId, op }]))) await this.upsertEach(workspaceId, [{ filter: { profileId }, update }]);
  }
}

export interface BlockDoc extends WorkspaceDocument, Block {}

/**
 * Collection `identity_blocks`: one per blocking key, `_id` = workspace:key, holding up to the cap + 1
 * profile ids. The per-event reads and writes of a chunk's concurrent resolutions go out together.
 */
@Injectable()
export class BlockingKeysRepository extends WorkspaceRepository<BlockDoc> {
  private readonly reads = new CoalescedReads<{ ws: string; key: string }, Block & { ws: string }>(
    (keys) =>
      byWorkspace(keys, async (ws, ks) =>
        (await this.find(ws, { key: { $in: ks.map((k) => k.key) } }, { projection: { _id: 0, key: 1, profileIds: 1 } })).map((d) => ({
          ws,
          key: d.key,
          profileIds: d.profileIds ?? [],
        })),
      ),
    (k) => `${k.ws}\u0000${k.key}`,
    (d) => `${d.ws}\u0000${d.key}`,
  );
  private readonly writes = coalescedUpdates<BlockDoc>((ws, ops) => this.bulkWrite(ws, ops));

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identity_blocks', ['key']);
  }

  indexes(): IndexDescription[] {
    return [];
  }

  async findMany(workspaceId: string, keys: string[]): Promise<Block[]> {
    const blocks = await this.reads.get(keys.map((key) => ({ ws: workspaceId, key })));
    return blocks.map(({ key, profileIds }) => ({ key, profileIds }));
  }

  async remove(workspaceId: string, keys: string[], profileId: string): Promise<void> {
    for (const key of keys)
      await this.updateOne(workspaceId, { key }, { $pull: { profileIds: profileId } } as unknown as UpdateFilter<BlockDoc>);
  }

  /** Adds the profile under each key (concurrent adders may overshoot the cap by a few: harmless). */
  async add(workspaceId: string, keys: string[], profileId: string): Promise<void> {
    const ops = keys.map((key) => ({ filter: { key }, update: { $addToSet: { profileIds: profileId } } as UpdateFilter<BlockDoc> }));
    const bulk = ops.map(({ filter, update }) => ({
      ws: workspaceId,
      op: { updateOne: { filter, update, upsert: true } } as AnyBulkWriteOperation<BlockDoc>,
    }));
    // Not known applied (two adders creating one key: a duplicate key stops a FerretDB bulk): each on its own.
    if (!(await this.writes.run(bulk))) await this.upsertEach(workspaceId, ops);
  }
}
