import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import type { Condition } from '@cdp/segment-language';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

export interface SegmentDocument extends WorkspaceDocument {
  segmentId: string;
  name: string;
  /** The AST; trait keys live in values, never in field names, so any key is safe to store. */
  definition: Condition;
  text: string;
  createdAt: Date;
  updatedAt: Date;
}

export type SegmentFields = Pick<SegmentDocument, 'name' | 'definition' | 'text'>;

/** Segment definitions (collection `segments`). */
@Injectable()
export class SegmentsRepository extends WorkspaceRepository<SegmentDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segments');
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, segmentId: 1 }, name: 'workspace_segment', unique: true }];
  }

  async create(workspaceId: string, segmentId: string, fields: SegmentFields, now: Date): Promise<SegmentDocument> {
    const doc: SegmentDocument = { workspaceId, segmentId, ...fields, createdAt: now, updatedAt: now };
    await this.insertOne(workspaceId, { ...doc });
    return doc;
  }

  get(workspaceId: string, segmentId: string): Promise<SegmentDocument | null> {
    return this.findOne(workspaceId, { segmentId }, { projection: { _id: 0 } });
  }

  list(workspaceId: string): Promise<SegmentDocument[]> {
    return this.find(workspaceId, {}, { projection: { _id: 0 }, sort: { segmentId: 1 } });
  }

  async update(workspaceId: string, segmentId: string, fields: SegmentFields, now: Date): Promise<SegmentDocument | null> {
    return this.findOneAndUpdate(
      workspaceId,
      { segmentId },
      { $set: { ...fields, updatedAt: now } },
      { returnDocument: 'after', projection: { _id: 0 } },
    );
  }

  async remove(workspaceId: string, segmentId: string): Promise<boolean> {
    const result = await this.deleteMany(workspaceId, { segmentId });
    return result.deletedCount > 0;
  }
}
