import type { Filter, IndexDescription } from 'mongodb';
import { inPages, MongoConnection, readAhead, WorkspaceRepository } from '@cdp/mongo';
import type { TimelineDoc } from './timeline.repository';
import type { TimelineEvent } from './user-computed-traits';

/**
 * The backfill's read of `profile_events` (TimelineRepository owns the collection and its indexes):
 * a workspace's timeline in `_id` order, which is `workspace:messageId`, so the scan is an `_id` range
 * and a restart continues after the last `_id` applied.
 */
export class TimelineScan extends WorkspaceRepository<TimelineDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_events', ['messageId']);
  }

  indexes(): IndexDescription[] {
    return [];
  }

  /**
   * The events after `after` (a timeline _id; null: from the start) in pages of `size`, from one
   * cursor: the local FerretDB pushes neither the `_id` range nor the sort down (measured: a SCAN
   * plan), so every query costs a scan of the collection; one query per backfill run, not per page.
   */
  async *pages(workspaceId: string, after: string | null, size: number): AsyncGenerator<TimelineEvent[]> {
    const prefix = this.keyId(workspaceId, '');
    // Our _ids are strings; the driver types them as ObjectId by default.
    const filter = { _id: { $gt: after ?? prefix, $lt: `${prefix}\uffff` }, workspaceId } as unknown as Filter<TimelineDoc>;
    const cursor = this.collection
      .find(filter, {
        sort: { _id: 1 },
        batchSize: size,
        projection: { _id: 1, profileId: 1, messageId: 1, type: 1, event: 1, name: 1, properties: 1, timestamp: 1 },
      })
      .map(
        (d): TimelineEvent => ({
          id: String(d._id),
          profileId: d.profileId,
          messageId: d.messageId,
          type: d.type,
          event: d.event,
          name: d.name ?? null,
          properties: d.properties,
          timestamp: d.timestamp,
        }),
      );
    yield* readAhead(inPages(cursor, size));
  }

  /** The workspace's timeline size (a scan; once per backfill, for its progress). */
  count(workspaceId: string): Promise<number> {
    return this.collection.countDocuments({ workspaceId });
  }
}
