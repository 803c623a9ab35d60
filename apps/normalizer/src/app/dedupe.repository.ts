import { Injectable, Logger } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { duplicateKeyIndexes, isDuplicateKey, MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/** The first record that claimed a workspace's messageId, and when. */
export interface DedupeDoc extends WorkspaceDocument {
  messageId: string;
  /** `<topic>/<partition>/<offset>` of the claiming record. */
  claimedBy: string;
  seenAt: Date;
}

/** A chunk's claims in one workspace: who holds each messageId, and which were held before the chunk claimed them. */
export interface ClaimResult {
  holders: Map<string, string>;
  earlier: Set<string>;
}

/** At least the brief's 24 hours. */
export const DEDUPE_WINDOW_MS = 24 * 60 * 60 * 1000;

const LEGACY_UNIQUE_INDEX = 'dedupe_unique';

/** Collection `normalizer_dedupe`: one document per workspace + messageId seen in the window. */
@Injectable()
export class DedupeRepository extends WorkspaceRepository<DedupeDoc> {
  private readonly logger = new Logger(DedupeRepository.name);

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'normalizer_dedupe', ['messageId']);
  }

  /**
   * None beyond `_id`: it is built from workspace + messageId (the natural key), so it alone keeps
   * one claim per messageId, and a second unique index would only slow the insert every event pays.
   */
  indexes(): IndexDescription[] {
    return [];
  }

  override async ensureIndexes(): Promise<void> {
    await super.ensureIndexes();
    // The unique index earlier versions made duplicates `_id`: dropped where it is still there.
    await this.collection.dropIndex(LEGACY_UNIQUE_INDEX).catch(() => undefined);
    try {
      // For MongoDB only, as a backstop: the sweep is what expires entries (FerretDB has no TTL).
      await this.collection.createIndex({ seenAt: 1 }, { name: 'dedupe_ttl', expireAfterSeconds: (2 * DEDUPE_WINDOW_MS) / 1000 });
    } catch (e) {
      this.logger.warn(`TTL index not created (the sweep expires entries): ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Claims each messageId for the given record position unless someone claimed it before, and
   * returns who holds each claim (messageId -> position) and which were claimed before this call
   * (by another record, or by the same one in an earlier delivery). One bulk insert per workspace
   * and chunk; only the messageIds already taken are read back.
   */
  async claim(workspaceId: string, claims: Map<string, string>, now: Date): Promise<ClaimResult> {
    const entries = [...claims];
    const holders = new Map(claims);
    const earlier = new Set<string>();
    try {
      await this.bulkWrite(
        workspaceId,
        entries.map(([messageId, claimedBy]) => ({ insertOne: { document: { messageId, claimedBy, seenAt: now } as DedupeDoc } })),
      );
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const taken = duplicateKeyIndexes(e).map((i) => entries[i][0]);
      for (const messageId of taken) earlier.add(messageId);
      const docs = await this.find(workspaceId, { messageId: { $in: taken } }, { projection: { _id: 0, messageId: 1, claimedBy: 1 } });
      for (const d of docs) holders.set(d.messageId, d.claimedBy);
    }
    return { holders, earlier };
  }

  /**
   * Gives back claims (messageId -> position) of events that had no effect after all (suppressed):
   * only where the claim is still held by that position, so another record's claim stays.
   */
  async release(workspaceId: string, claims: Map<string, string>): Promise<void> {
    if (claims.size === 0) return;
    await this.deleteMany(workspaceId, { messageId: { $in: [...claims.keys()] }, claimedBy: { $in: [...claims.values()] } });
  }

  /** Deletes entries older than the cutoff in every workspace (maintenance by age, not a tenant query). */
  async sweep(cutoff: Date): Promise<number> {
    const result = await this.collection.deleteMany({ seenAt: { $lt: cutoff } });
    return result.deletedCount;
  }
}
