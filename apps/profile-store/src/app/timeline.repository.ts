import { Injectable } from '@nestjs/common';
import type { AnyBulkWriteOperation, Filter, IndexDescription } from 'mongodb';
import type { ResolvedEvent } from '@cdp/contracts';
import { MongoConnection, WorkspaceRepository, isDuplicateKey, type WorkspaceDocument } from '@cdp/mongo';
import type { TimelineCursor } from './timeline-cursor';

/** One event in a profile's timeline. Properties and traits stay JSON text (any shape can be stored). */
export interface TimelineDoc extends WorkspaceDocument {
  messageId: string;
  /** The profile the event was applied to (a survivor's timeline also spans its absorbed ids). */
  profileId: string;
  type: string;
  event: string | null;
  name: string | null;
  sourceId: string | null;
  timestamp: number;
  receivedAt: number;
  properties: string;
  traits: string;
}

/** Which events a timeline page holds; every given condition must hold. */
export interface TimelineFilter {
  /** Track events of this name, and page and screen calls of this name (a track's `event`, a page's or screen's `name`). */
  event?: string;
  /** Event timestamp at or after (epoch ms). */
  since?: number;
  /** Event timestamp before (epoch ms). */
  until?: number;
}

/** `profile_events`: one document per workspace and messageId; its presence marks an event as fully processed. */
@Injectable()
export class TimelineRepository extends WorkspaceRepository<TimelineDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_events', ['messageId']);
  }

  indexes(): IndexDescription[] {
    return [
      { key: { workspaceId: 1, messageId: 1 }, name: 'workspace_message', unique: true },
      { key: { workspaceId: 1, profileId: 1, timestamp: 1 }, name: 'workspace_profile_time' },
    ];
  }

  /** Which of these messageIds are already in the timeline. */
  async recorded(workspaceId: string, messageIds: string[]): Promise<Set<string>> {
    if (messageIds.length === 0) return new Set();
    const docs = await this.find(workspaceId, { messageId: { $in: messageIds } }, { projection: { messageId: 1 } });
    return new Set(docs.map((d) => d.messageId));
  }

  /** Records events (plain inserts: a redelivered event's duplicate key leaves the first record as it is). */
  async record(workspaceId: string, entries: { profileId: string; event: ResolvedEvent }[]): Promise<void> {
    const ops: AnyBulkWriteOperation<TimelineDoc>[] = entries.map(({ profileId, event: e }) => ({
      insertOne: {
        document: {
          workspaceId,
          messageId: e.messageId,
          profileId,
          type: e.type,
          event: e.event,
          name: e.name,
          sourceId: e.sourceId,
          timestamp: e.timestamp,
          receivedAt: e.receivedAt,
          properties: e.properties,
          traits: e.traits,
        },
      },
    }));
    try {
      await this.bulkWrite(workspaceId, ops);
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
  }

  /**
   * A page of the timeline of these profile ids, newest first (timestamp, then messageId), of the
   * events `only` lets through. Not index-backed beyond what the profile ids narrow (only `_id`
   * conditions use an index on the local FerretDB): the filters are evaluated over the profile's events.
   */
  page(
    workspaceId: string,
    profileIds: string[],
    limit: number,
    after: TimelineCursor | null,
    only: TimelineFilter = {},
  ): Promise<TimelineDoc[]> {
    const filter: Filter<TimelineDoc> = { profileId: { $in: profileIds } };
    const range: { $gte?: number; $lt?: number } = {};
    if (only.since !== undefined) range.$gte = only.since;
    if (only.until !== undefined) range.$lt = only.until;
    if (Object.keys(range).length > 0) filter.timestamp = range;
    const alternatives: Filter<TimelineDoc>[][] = [];
    if (after)
      alternatives.push([{ timestamp: { $lt: after.timestamp } }, { timestamp: after.timestamp, messageId: { $lt: after.messageId } }]);
    if (only.event !== undefined)
      // $eq: the name is a value to compare, whatever it looks like.
      alternatives.push([
        { type: 'track', event: { $eq: only.event } },
        { type: { $in: ['page', 'screen'] }, name: { $eq: only.event } },
      ]);
    // One $or as before; two (cursor and name) must both hold.
    if (alternatives.length === 1) filter.$or = alternatives[0];
    else if (alternatives.length > 1) filter.$and = alternatives.map(($or) => ({ $or }));
    return this.find(workspaceId, filter, { sort: { timestamp: -1, messageId: -1 }, limit, projection: { _id: 0 } });
  }

  /**
   * Deletes up to `batchSize` entries older than `before` (event timestamp) of one workspace, or of
   * every workspace except `exceptWorkspaces` when `workspaceId` is null (the default retention).
   * The sweep's cross-workspace access; not indexed on the local FerretDB (a scan per batch).
   */
  async sweepBatch(workspaceId: string | null, exceptWorkspaces: string[], before: number, batchSize: number): Promise<number> {
    const filter =
      workspaceId !== null
        ? { workspaceId, timestamp: { $lt: before } }
        : { workspaceId: { $nin: exceptWorkspaces }, timestamp: { $lt: before } };
    const docs = await this.collection.find(filter, { projection: { _id: 1 }, limit: batchSize }).toArray();
    if (docs.length === 0) return 0;
    const result = await this.collection.deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    return result.deletedCount;
  }

  /** Erases the timeline of these profile ids. */
  async erase(workspaceId: string, profileIds: string[]): Promise<void> {
    await this.deleteMany(workspaceId, { profileId: { $in: profileIds } });
  }
}
