import { Injectable } from '@nestjs/common';
import type { AnyBulkWriteOperation, IndexDescription, UpdateFilter } from 'mongodb';
import type { ProfileEvent } from '@cdp/segment-language';
import { coalescedUpdates, isDuplicateKey, MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';
import { parseTraits } from '../membership/transition';
import { MAX_OCCURRENCES } from './history-limits';

/** One stored occurrence of an event. */
export interface EventOccurrence {
  messageId: string;
  /** Epoch milliseconds. */
  timestamp: number;
  /** JSON text: property keys may contain '.' or start with '$'. */
  properties: string;
}

export interface SegmentEventsDocument extends WorkspaceDocument {
  profileId: string;
  eventName: string;
  occurrences: EventOccurrence[];
  /** The occurrences' message ids, what a redelivery is recognized by (absent on documents stored before). */
  messageIds?: string[];
}

export type StoredEvent = EventOccurrence & { profileId: string; eventName: string };

/** An event as conditions count it, with the message id a redelivery is recognized by. */
export type HistoryEvent = ProfileEvent & { messageId: string };

/**
 * The events event conditions count (collection `segment_event_history`): one document per
 * workspace + profile + event name holding its occurrences, kept only for event names some
 * segment of the workspace reads. One document per name, not per event, so that a profile's
 * history is read by document id, never by scanning.
 */
@Injectable()
export class SegmentEventsRepository extends WorkspaceRepository<SegmentEventsDocument> {
  private readonly writes = coalescedUpdates<SegmentEventsDocument>((ws, ops) => this.bulkWrite(ws, ops));
  private readonly trims = coalescedUpdates<SegmentEventsDocument>((ws, ops) => this.bulkWrite(ws, ops));

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_event_history', ['profileId', 'eventName']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, profileId: 1, eventName: 1 }, name: 'workspace_profile_event', unique: true }];
  }

  /**
   * Stores an event once; a redelivered messageId changes nothing. With the records of the
   * chunk's other profiles in one bulk; when that cannot tell (a redelivered messageId's
   * duplicate key stops a FerretDB bulk), on its own. Then the oldest occurrence goes when there
   * are more than MAX_OCCURRENCES (FerretDB ignores `$push`'s `$slice`).
   */
  async record(workspaceId: string, event: StoredEvent): Promise<void> {
    await this.push(workspaceId, event);
    const { profileId, eventName } = event;
    // Matches only a document past the cap: most trims change nothing (their answer is not needed).
    const filter = { profileId, eventName, [`occurrences.${MAX_OCCURRENCES}`]: { $exists: true } };
    const op = {
      updateOne: { filter, update: { $pop: { occurrences: -1, messageIds: -1 } } },
    } as AnyBulkWriteOperation<SegmentEventsDocument>;
    await this.trims.run([{ ws: workspaceId, op }]);
  }

  private async push(workspaceId: string, { profileId, eventName, ...occurrence }: StoredEvent): Promise<void> {
    // `messageIds`, not `occurrences.messageId`: FerretDB's `$ne` on a path into an array of
    // documents matches when any element differs, so a redelivery would be pushed again.
    const filter = { profileId, eventName, messageIds: { $ne: occurrence.messageId } };
    const update = {
      $push: { occurrences: occurrence, messageIds: occurrence.messageId },
    } as unknown as UpdateFilter<SegmentEventsDocument>;
    const op = { updateOne: { filter, update, upsert: true } } as AnyBulkWriteOperation<SegmentEventsDocument>;
    if (await this.writes.run([{ ws: workspaceId, op }])) return;
    try {
      await this.updateOne(workspaceId, filter, update, { upsert: true });
    } catch (err) {
      // The filter missed a document that already holds this messageId (or a concurrent writer
      // created the document first): the upsert's insert collides with it, i.e. already stored.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** Forgets every stored event of these profiles (erased people: their properties are personal data). */
  async removeProfiles(workspaceId: string, profileIds: string[]): Promise<void> {
    if (profileIds.length === 0) return;
    await this.deleteMany(workspaceId, { profileId: { $in: profileIds } });
  }

  /** The stored events with these names of each profile, by profile id. */
  async forProfiles(workspaceId: string, profileIds: string[], names: readonly string[]): Promise<Map<string, HistoryEvent[]>> {
    const out = new Map<string, HistoryEvent[]>();
    const projection = { _id: 0, messageIds: 0 };
    for (const d of await this.findCombinations(workspaceId, ['profileId', profileIds], ['eventName', names], { projection })) {
      const list = out.get(d.profileId) ?? [];
      for (const o of d.occurrences ?? [])
        list.push({ name: d.eventName, messageId: o.messageId, timestamp: o.timestamp, properties: parseTraits(o.properties) ?? {} });
      out.set(d.profileId, list);
    }
    return out;
  }
}
