import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import type { RegulationType } from './regulations.dto';

/**
 * A regulation as stored: what it asked for and how far it got, never the identifiers (they are
 * PII; the suppression keeps only their hashes). `pendingProfileIds` are the pseudonymous profile
 * ids still to erase, kept so that a restart finishes the job; emptied when it is done.
 */
export interface RegulationDoc extends WorkspaceDocument {
  regulationId: string;
  type: RegulationType;
  status: 'in_progress' | 'finished';
  identifierCount: number;
  profilesFound: number;
  profilesErased: number;
  pendingProfileIds: string[];
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** `profile_regulations`: one document per workspace and regulation id. */
@Injectable()
export class RegulationsRepository extends WorkspaceRepository<RegulationDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_regulations', ['regulationId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, regulationId: 1 }, name: 'workspace_regulation', unique: true }];
  }

  async create(doc: RegulationDoc): Promise<void> {
    await this.insertOne(doc.workspaceId, doc);
  }

  get(workspaceId: string, regulationId: string): Promise<RegulationDoc | null> {
    return this.findOne(workspaceId, { regulationId }, { projection: { _id: 0 } });
  }

  /** One more profile erased (or found gone): `remaining` are still to do. */
  async progressed(workspaceId: string, regulationId: string, remaining: string[], now: number): Promise<void> {
    await this.updateOne(
      workspaceId,
      { regulationId },
      { $set: { pendingProfileIds: remaining, updatedAt: now }, $inc: { profilesErased: 1 } },
    );
  }

  async finish(workspaceId: string, regulationId: string, now: number): Promise<void> {
    await this.updateOne(
      workspaceId,
      { regulationId },
      { $set: { status: 'finished', pendingProfileIds: [], finishedAt: now, updatedAt: now } },
    );
  }

  /**
   * Unfinished regulations of every workspace not touched since `staleBefore` (a crash or a
   * failed erasure left them). The one cross-workspace read: the worker resumes them where they
   * stopped. A scan, but of a small collection.
   */
  async stale(staleBefore: number, limit: number): Promise<RegulationDoc[]> {
    return this.collection
      .find({ status: 'in_progress', updatedAt: { $lt: staleBefore } }, { projection: { _id: 0 }, limit })
      .toArray() as Promise<RegulationDoc[]>;
  }

  /** Marks a regulation as being worked on now (so the next stale scan leaves it alone for a while). */
  async touch(workspaceId: string, regulationId: string, now: number): Promise<void> {
    await this.updateOne(workspaceId, { regulationId }, { $set: { updatedAt: now } });
  }
}
