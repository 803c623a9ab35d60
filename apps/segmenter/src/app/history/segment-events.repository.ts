import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import type { ProfileEvent } from '@cdp/segment-language';
import { isDuplicateKey, MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';
import { parseTraits } from '../membership/transition';

export interface SegmentEventDocument extends WorkspaceDocument {
  profileId: string;
  messageId: string;
  eventName: string;
  /** Epoch milliseconds. */
  timestamp: number;
  /** JSON text: property keys may contain '.' or start with '$'. */
  properties: string;
}

export type StoredEvent = Omit<SegmentEventDocument, 'workspaceId'>;

/**
 * The events event conditions count (collection `segment_events`): one document per workspace +
 * profile + messageId, kept only for event names some segment of the workspace reads.
 */
@Injectable()
export class SegmentEventsRepository extends WorkspaceRepository<SegmentEventDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_events');
  }

  indexes(): IndexDescription[] {
    return [
      { key: { workspaceId: 1, profileId: 1, messageId: 1 }, name: 'workspace_profile_message', unique: true },
      { key: { workspaceId: 1, profileId: 1, eventName: 1 }, name: 'workspace_profile_event' },
    ];
  }

  /** Stores an event once; a redelivered messageId changes nothing. */
  async record(workspaceId: string, e: StoredEvent): Promise<void> {
    try {
      await this.updateOne(workspaceId, { profileId: e.profileId, messageId: e.messageId }, { $setOnInsert: { ...e } }, { upsert: true });
    } catch (err) {
      // Two writers inserting the same messageId at once: the other one stored it.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** The stored events with these names of each profile, by profile id. */
  async forProfiles(workspaceId: string, profileIds: string[], names: readonly string[]): Promise<Map<string, ProfileEvent[]>> {
    const out = new Map<string, ProfileEvent[]>();
    if (profileIds.length === 0 || names.length === 0) return out;
    const filter = profileIds.length === 1 ? { profileId: profileIds[0] } : { profileId: { $in: profileIds } };
    const docs = await this.find(workspaceId, { ...filter, eventName: { $in: [...names] } }, { projection: { _id: 0 } });
    for (const d of docs) {
      const list = out.get(d.profileId) ?? [];
      list.push({ name: d.eventName, timestamp: d.timestamp, properties: parseTraits(d.properties) ?? {} });
      out.set(d.profileId, list);
    }
    return out;
  }
}
