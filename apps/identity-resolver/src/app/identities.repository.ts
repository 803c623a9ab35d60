import { Injectable } from '@nestjs/common';
import type { AnyBulkWriteOperation, IndexDescription } from 'mongodb';
import type { Identifier } from '@cdp/identity-graph';
import {
  CoalescedWrites,
  duplicateKeyIndexes,
  isDuplicateKey,
  MongoConnection,
  perWorkspace,
  WorkspaceRepository,
  type WorkspaceDocument,
} from '@cdp/mongo';

/** One known identifier of a workspace and the profile it was first attached to (follow merges from there). */
export interface IdentityDoc extends WorkspaceDocument {
  type: string;
  value: string;
  profileId: string;
  createdAt: Date;
}

/** Collection `identities`: one document per workspace + type + value. */
@Injectable()
export class IdentitiesRepository extends WorkspaceRepository<IdentityDoc> {
  /**
   * The claims of concurrent resolutions, sent as one unordered insert (see claimMany). FerretDB
   * carries on after a failed insert, so the inserts without a duplicate-key error are ours.
   */
  private readonly inserts = new CoalescedWrites<{ ws: string; op: AnyBulkWriteOperation<IdentityDoc> }>((ops) =>
    perWorkspace(ops, async (ws, group) => {
      try {
        await this.bulkWrite(
          ws,
          group.map((o) => o.op),
        );
        return group.map(() => true);
      } catch (e) {
        if (!isDuplicateKey(e) || !onlyDuplicateKeys(e)) throw e;
        const taken = new Set(duplicateKeyIndexes(e));
        return group.map((_, i) => !taken.has(i));
      }
    }),
  );

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'identities', ['type', 'value']);
  }

  indexes(): IndexDescription[] {
    return [
      { key: { workspaceId: 1, type: 1, value: 1 }, name: 'identity_unique', unique: true },
      { key: { workspaceId: 1, profileId: 1 }, name: 'identity_by_profile' },
    ];
  }

  async findMany(workspaceId: string, ids: Identifier[]): Promise<IdentityDoc[]> {
    if (ids.length === 0) return [];
    const keys = ids.map(({ type, value }) => this.keyId(workspaceId, type, value));
    return this.find(workspaceId, { _id: { $in: keys } }, { projection: { _id: 0 } });
  }

  get(workspaceId: string, id: Identifier): Promise<IdentityDoc | null> {
    return this.findOne(workspaceId, { type: id.type, value: id.value }, { projection: { _id: 0 } });
  }

  /**
   * Attaches an identifier to a profile unless it is attached already, and returns the profile
   * it is attached to (the caller's, or whoever won). Two writers racing on the unique index:
   * the loser's duplicate key means the other one inserted; read what it wrote. `createdAt`: the
   * new document's (given by a caller that keeps what it wrote).
   */
  async claim(workspaceId: string, id: Identifier, profileId: string, createdAt = new Date()): Promise<string> {
    try {
      const doc = await this.findOneAndUpdate(
        workspaceId,
        { type: id.type, value: id.value },
        { $setOnInsert: { profileId, createdAt } },
        // No projection: FerretDB 1.24 does not implement findAndModify's "fields".
        { upsert: true, returnDocument: 'after' },
      );
      if (doc) return doc.profileId;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const existing = await this.get(workspaceId, id);
    if (!existing) throw new Error('identity vanished after a duplicate-key race');
    return existing.profileId;
  }

  /**
   * `claim` for several identifiers in one round trip: one unordered insert each (FerretDB carries
   * on after a failed insert); a duplicate key means someone attached it first, and the owners of
   * those are read. Returns the profile each identifier is attached to, in order.
   */
  async claimMany(workspaceId: string, ids: Identifier[], profileId: string, createdAt = new Date()): Promise<string[]> {
    if (ids.length === 0) return [];
    // First in the insert shared with the chunk's other resolutions: all inserted, all ours. Otherwise
    // (someone claimed one first, or the bulk failed) the claims below, which find ours again.
    const inserts = ids.map((id) => ({
      ws: workspaceId,
      op: {
        insertOne: { document: { workspaceId, type: id.type, value: id.value, profileId, createdAt } },
      } as AnyBulkWriteOperation<IdentityDoc>,
    }));
    if (await this.inserts.run(inserts)) return ids.map(() => profileId);
    if (ids.length === 1) return Promise.all(ids.map((id) => this.claim(workspaceId, id, profileId, createdAt)));
    let taken: number[] = [];
    try {
      await this.bulkWrite(
        workspaceId,
        ids.map((id) => ({ insertOne: { document: { workspaceId, type: id.type, value: id.value, profileId, createdAt } } })),
      );
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      taken = duplicateKeyIndexes(e);
    }
    if (taken.length === 0) return ids.map(() => profileId);
    const owners = await this.findMany(
      workspaceId,
      taken.map((i) => ids[i] as Identifier),
    );
    const ownerOf = new Map(owners.map((o) => [`${o.type}:${o.value}`, o.profileId]));
    return ids.map((id, i) => {
      if (!taken.includes(i)) return profileId;
      const owner = ownerOf.get(`${id.type}:${id.value}`);
      if (!owner) throw new Error('identity vanished after a duplicate-key race');
      return owner;
    });
  }

  /** Removes an identifier from the graph; true when it was there. */
  async remove(workspaceId: string, id: Identifier): Promise<boolean> {
    return (await this.deleteMany(workspaceId, { type: id.type, value: id.value })).deletedCount > 0;
  }

  /** Points the identifier at another profile if it still points at `from` (compare-and-set). */
  async repoint(workspaceId: string, id: Identifier, from: string, to: string, at: Date): Promise<boolean> {
    const result = await this.updateOne(
      workspaceId,
      { type: id.type, value: id.value, profileId: from },
      { $set: { profileId: to, createdAt: at } },
    );
    return result.modifiedCount > 0;
  }

  /**
   * Removes the identifiers first attached to any of the profiles, no later than `before` (a
   * collection scan on FerretDB: for erasures, not per event).
   */
  async removeOfProfiles(workspaceId: string, profileIds: string[], before: Date): Promise<number> {
    if (profileIds.length === 0) return 0;
    return (await this.deleteMany(workspaceId, { profileId: { $in: profileIds }, createdAt: { $lte: before } })).deletedCount;
  }
}

/** A bulk error whose every write error is a duplicate key (anything else: nothing is known). */
const onlyDuplicateKeys = (e: unknown): boolean => {
  const errors = (e as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(errors) ? errors : errors ? [errors] : [];
  return list.length > 0 && list.every((w) => (w as { code?: number }).code === 11000);
};
