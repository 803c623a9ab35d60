import { Injectable } from '@nestjs/common';
import { Binary, type IndexDescription } from 'mongodb';
import { isDuplicateKey, MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import type { DlqFilter } from './dlq-query';

/** One dead letter of a workspace, indexed from cdp.events.dlq.v1 at its position there. */
export interface DlqEntryDoc extends WorkspaceDocument {
  dlqPartition: number;
  dlqOffset: string;
  stage: string;
  reason: string;
  message: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  failedAt: Date;
  originalKey: Binary | null;
  originalValue: Binary | null;
  /** Suppression hashes of the person the original record is about (letter-identifiers.ts): what a regulation purges by. */
  identifierHashes: string[];
  /** The original record's messageId, when it has one (absent on letters indexed before it was kept). */
  messageId?: string | null;
  /** When a replay last wrote it back; a replay leaves it out after that unless asked `again`. */
  replayedAt?: Date;
}

/** What the listing shows of a letter: never the original bytes (they may hold personal data). */
export interface DlqEntryView {
  reason: string;
  stage: string;
  message: string;
  messageId: string | null;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  failedAt: string;
  replayedAt: string | null;
}

export interface DlqCount {
  reason: string;
  stage: string;
  count: number;
  /** Of `count`, the letters written back by a replay (a replay leaves them out unless `again`). */
  replayed: number;
}

export interface DlqOriginal {
  /** Where the letter is on the DLQ topic (its id here). */
  dlqPartition: number;
  dlqOffset: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  key: string | null;
  value: Buffer | null;
}

/** How long letters stay listable and replayable: the DLQ topic's retention in production. */
export const DLQ_INDEX_DAYS = 30;

/** Collection `normalizer_dlq`: the dead letters of every stage, per workspace, for listing and replay. */
@Injectable()
export class DlqIndexRepository extends WorkspaceRepository<DlqEntryDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'normalizer_dlq', ['dlqPartition', 'dlqOffset']);
  }

  indexes(): IndexDescription[] {
    return [
      { key: { workspaceId: 1, dlqPartition: 1, dlqOffset: 1 }, name: 'dlq_position', unique: true },
      { key: { workspaceId: 1, failedAt: -1 }, name: 'dlq_failed_at' },
    ];
  }

  /** Stores letters of one workspace; a letter indexed before (a redelivery) is left as it is. */
  async add(workspaceId: string, entries: Omit<DlqEntryDoc, 'workspaceId'>[]): Promise<void> {
    try {
      await this.bulkWrite(
        workspaceId,
        entries.map((document) => ({ insertOne: { document: { ...document, workspaceId } as DlqEntryDoc } })),
      );
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
  }

  async counts(workspaceId: string, filter: DlqFilter): Promise<DlqCount[]> {
    const conditions = this.conditions(filter);
    // Two groupings, not one with $cond: FerretDB 1.24 sums only constants and fields.
    const [all, replayed] = await Promise.all([
      this.countByReason(workspaceId, conditions),
      this.countByReason(workspaceId, { ...conditions, replayedAt: { $exists: true } }),
    ]);
    const replayedOf = new Map(replayed.map((r) => [`${r.reason}\u0000${r.stage}`, r.count]));
    return all
      .map((r) => ({ ...r, replayed: replayedOf.get(`${r.reason}\u0000${r.stage}`) ?? 0 }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason) || a.stage.localeCompare(b.stage));
  }

  private async countByReason(workspaceId: string, conditions: Record<string, unknown>): Promise<Omit<DlqCount, 'replayed'>[]> {
    const rows = await this.collection
      .aggregate<{ _id: { reason: string; stage: string }; count: number }>([
        { $match: this.scope(workspaceId, conditions) },
        // Only $sum: FerretDB 1.24 has no $max accumulator.
        { $group: { _id: { reason: '$reason', stage: '$stage' }, count: { $sum: 1 } } },
      ])
      .toArray();
    return rows.map((r) => ({ reason: r._id.reason, stage: r._id.stage, count: r.count }));
  }

  async recent(workspaceId: string, filter: DlqFilter, limit: number): Promise<DlqEntryView[]> {
    const docs = await this.find(workspaceId, this.conditions(filter), {
      sort: { failedAt: -1, dlqOffset: -1 },
      limit,
      projection: { originalKey: 0, originalValue: 0 },
    });
    return docs.map((d) => ({
      reason: d.reason,
      stage: d.stage,
      message: d.message,
      messageId: d.messageId ?? null,
      sourceTopic: d.sourceTopic,
      sourcePartition: d.sourcePartition,
      sourceOffset: d.sourceOffset,
      failedAt: d.failedAt.toISOString(),
      replayedAt: d.replayedAt ? d.replayedAt.toISOString() : null,
    }));
  }

  /** The original records of matching letters, oldest first; `again`: those replayed before too. */
  async originals(workspaceId: string, filter: DlqFilter, limit: number, again = false): Promise<DlqOriginal[]> {
    const conditions = again ? this.conditions(filter) : { ...this.conditions(filter), replayedAt: { $exists: false } };
    const docs = await this.find(workspaceId, conditions, { sort: { failedAt: 1, dlqOffset: 1 }, limit });
    return docs.map((d) => ({
      dlqPartition: d.dlqPartition,
      dlqOffset: d.dlqOffset,
      sourceTopic: d.sourceTopic,
      sourcePartition: d.sourcePartition,
      sourceOffset: d.sourceOffset,
      key: d.originalKey ? Buffer.from(d.originalKey.buffer).toString('utf8') : null,
      value: d.originalValue ? Buffer.from(d.originalValue.buffer) : null,
    }));
  }

  /** Matching letters a replay left out because they were replayed before. */
  async countReplayed(workspaceId: string, filter: DlqFilter): Promise<number> {
    return this.collection.countDocuments(this.scope(workspaceId, { ...this.conditions(filter), replayedAt: { $exists: true } }));
  }

  /** Notes that these letters were written back (by `_id`). */
  async markReplayed(workspaceId: string, letters: readonly Pick<DlqOriginal, 'dlqPartition' | 'dlqOffset'>[], at: Date): Promise<void> {
    if (letters.length === 0) return;
    await this.bulkWrite(
      workspaceId,
      letters.map(({ dlqPartition, dlqOffset }) => ({
        updateOne: { filter: { dlqPartition, dlqOffset }, update: { $set: { replayedAt: at } } },
      })),
    );
  }

  /** Deletes the letters about these identifiers (a regulation suppressed them); how many. Scans the workspace's letters on FerretDB: regulations are rare. */
  async purge(workspaceId: string, identifierHashes: readonly string[]): Promise<number> {
    if (identifierHashes.length === 0) return 0;
    return (await this.deleteMany(workspaceId, { identifierHashes: { $in: [...identifierHashes] } })).deletedCount;
  }

  /** Deletes letters older than the cutoff, in every workspace (the retention sweep). */
  async sweep(cutoff: Date): Promise<number> {
    return (await this.collection.deleteMany({ failedAt: { $lt: cutoff } })).deletedCount;
  }

  private conditions(filter: DlqFilter): Record<string, unknown> {
    const c: Record<string, unknown> = {};
    if (filter.reason) c['reason'] = filter.reason;
    if (filter.stage) c['stage'] = filter.stage;
    if (filter.since || filter.until) {
      const range: Record<string, Date> = {};
      if (filter.since) range['$gte'] = filter.since;
      if (filter.until) range['$lte'] = filter.until;
      c['failedAt'] = range;
    }
    return c;
  }
}
