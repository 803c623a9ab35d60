import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import type { Condition } from '@cdp/segment-language';
import { MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';

export interface SegmentDocument extends WorkspaceDocument {
  segmentId: string;
  name: string;
  /** The AST; trait keys live in values, never in field names, so any key is safe to store. */
  definition: Condition;
  text: string;
  /** Trait names every change of this segment carries (absent on segments stored before it existed). */
  outputTraits?: string[];
  /** Topic (without namespace) its changes are also produced on; null or absent: none. */
  outputTopic?: string | null;
  /** 1 on creation, +1 on every update of the definition. */
  version: number;
  backfill?: BackfillProgress;
  /** Set while a DELETE exits its members: not evaluated any more, removed last (a failed DELETE can be repeated). */
  deleting?: boolean;
  /** The version last published on cdp.segments.definitions.v1 (absent: none yet). */
  publishedVersion?: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Evaluation of a definition version over the existing profiles. */
export interface BackfillProgress {
  version: number;
  status: 'running' | 'done' | 'failed';
  total: number;
  processed: number;
  entered: number;
  /** Members of an earlier version this run took out (absent on runs stored before it was counted). */
  exited?: number;
  startedAt: Date;
  finishedAt?: Date;
  profilesPerSecond: number;
  /** When the run last wrote its progress (absent on runs of an earlier version): a stale one is resumed. */
  savedAt?: Date;
}

/** A running backfill as the resume check sees it. */
export type RunningBackfill = { workspaceId: string; segmentId: string; version: number; savedAt: Date | null };

export type SegmentFields = Pick<SegmentDocument, 'name' | 'definition' | 'text' | 'outputTraits' | 'outputTopic'>;

/** Segment definitions (collection `segments`). */
@Injectable()
export class SegmentsRepository extends WorkspaceRepository<SegmentDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segments', ['segmentId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, segmentId: 1 }, name: 'workspace_segment', unique: true }];
  }

  async create(workspaceId: string, segmentId: string, fields: SegmentFields, now: Date): Promise<SegmentDocument> {
    const doc: SegmentDocument = { workspaceId, segmentId, ...fields, version: 1, createdAt: now, updatedAt: now };
    await this.insertOne(workspaceId, { ...doc });
    return doc;
  }

  get(workspaceId: string, segmentId: string): Promise<SegmentDocument | null> {
    return this.findOne(workspaceId, { segmentId }, { projection: { _id: 0 } });
  }

  /** The id of another segment of the workspace (not `exceptId`, not being deleted) with this name, or null. */
  async namedOtherThan(workspaceId: string, name: string, exceptId: string): Promise<string | null> {
    const other = await this.findOne(
      workspaceId,
      { name, segmentId: { $ne: exceptId }, deleting: { $ne: true } },
      { projection: { _id: 0, segmentId: 1 } },
    );
    return other?.segmentId ?? null;
  }

  list(workspaceId: string): Promise<SegmentDocument[]> {
    return this.find(workspaceId, {}, { projection: { _id: 0 }, sort: { segmentId: 1 } });
  }

  /** The segment after the update; null when there is none, or it is being deleted. */
  async update(workspaceId: string, segmentId: string, fields: SegmentFields, now: Date): Promise<SegmentDocument | null> {
    return this.findOneAndUpdate(
      workspaceId,
      { segmentId, deleting: { $ne: true } },
      { $set: { ...fields, updatedAt: now }, $inc: { version: 1 } },
      // No projection: FerretDB refuses it on findOneAndUpdate.
      { returnDocument: 'after' },
    );
  }

  /** Records backfill progress, only while the segment is still at that definition version. */
  async saveBackfill(workspaceId: string, segmentId: string, progress: BackfillProgress): Promise<boolean> {
    const r = await this.updateOne(
      workspaceId,
      { segmentId, version: progress.version },
      { $set: { backfill: { ...progress, savedAt: new Date() } } },
    );
    return r.matchedCount === 1;
  }

  /**
   * Running backfills, of every workspace, whose progress was last written before `before`. Across
   * workspaces on purpose: a run whose instance stopped belongs to no request.
   */
  async staleBackfills(before: Date): Promise<RunningBackfill[]> {
    const docs = await this.collection
      .find(
        {
          'backfill.status': 'running',
          deleting: { $ne: true },
          $or: [{ 'backfill.savedAt': { $lt: before } }, { 'backfill.savedAt': { $exists: false } }],
        },
        { projection: { _id: 0, workspaceId: 1, segmentId: 1, backfill: 1 } },
      )
      .toArray();
    return docs.flatMap((d) =>
      d.backfill
        ? [{ workspaceId: d.workspaceId, segmentId: d.segmentId, version: d.backfill.version, savedAt: d.backfill.savedAt ?? null }]
        : [],
    );
  }

  /** Takes a stale run over (compare-and-set on its last write): true for one instance only. */
  async claimBackfill(run: RunningBackfill): Promise<boolean> {
    const r = await this.updateOne(
      run.workspaceId,
      {
        segmentId: run.segmentId,
        version: run.version,
        'backfill.status': 'running',
        'backfill.savedAt': run.savedAt ?? { $exists: false },
      },
      { $set: { 'backfill.savedAt': new Date() } },
    );
    return r.matchedCount === 1;
  }

  /**
   * Segments, of every workspace, whose current version is not on cdp.segments.definitions.v1 yet
   * (a publish failed, or they predate the topic). Across workspaces on purpose: the repair
   * belongs to no request. A whole scan, as the definitions are few.
   */
  async unpublished(): Promise<SegmentDocument[]> {
    const docs = await this.collection.find({ deleting: { $ne: true } }, { projection: { _id: 0 } }).toArray();
    // A segment stored before versions existed reads as version 1 (as in its API view).
    return docs.map((d) => ({ ...d, version: d.version ?? 1 })).filter((d) => d.publishedVersion !== d.version);
  }

  /** Records that `version` is on the topic, unless the segment has moved past it meanwhile. */
  async markPublished(workspaceId: string, segmentId: string, version: number): Promise<void> {
    const stored = version === 1 ? { $in: [1, null] } : version;
    await this.updateOne(workspaceId, { segmentId, version: stored }, { $set: { publishedVersion: version, version } });
  }

  /** Marks the segment as being deleted; the segment as it was, or null when there is none. */
  async markDeleting(workspaceId: string, segmentId: string): Promise<SegmentDocument | null> {
    // No projection: FerretDB refuses it on findOneAndUpdate.
    return this.findOneAndUpdate(workspaceId, { segmentId }, { $set: { deleting: true } }, { returnDocument: 'before' });
  }

  async remove(workspaceId: string, segmentId: string): Promise<boolean> {
    const result = await this.deleteMany(workspaceId, { segmentId });
    return result.deletedCount > 0;
  }
}
