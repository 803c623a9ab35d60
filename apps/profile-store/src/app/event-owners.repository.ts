import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, isDuplicateKey, type WorkspaceDocument } from '@cdp/mongo';

export interface EventOwnerDoc extends WorkspaceDocument {
  messageId: string;
  /** The profile the event is applied to, whatever profile id a later copy of it names. */
  profileId: string;
  claimedAt: Date;
}

/**
 * `profile_event_owners`: the profile an event was first given to, claimed before it is applied.
 * A redelivered event can come back from the identity-resolver under another profile id (the
 * graph changed in between: its first profile was merged into another). The two copies have
 * different keys, so they run at the same time on two partitions, both before the timeline marks
 * the event done; without the claim both would count it, and the merge of the first profile into
 * the second would count it again. A claim is taken before the timeline is read and dropped once
 * the timeline has the event, so a copy either finds the claim (and follows it) or finds the event
 * in the timeline (and stops).
 */
@Injectable()
export class EventOwnersRepository extends WorkspaceRepository<EventOwnerDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_event_owners', ['messageId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, messageId: 1 }, name: 'workspace_message', unique: true }];
  }

  /** Claims each event for its profile; answers the owner of every event (its own or an earlier claim's). */
  async claim(workspaceId: string, events: { messageId: string; profileId: string }[]): Promise<Map<string, string>> {
    if (events.length === 0) return new Map();
    const claimedAt = new Date();
    try {
      await this.bulkWrite(
        workspaceId,
        events.map(({ messageId, profileId }) => ({ insertOne: { document: { workspaceId, messageId, profileId, claimedAt } } })),
      );
      return new Map(events.map((e) => [e.messageId, e.profileId]));
    } catch (e) {
      // Unordered inserts: the others went in; the duplicates are claims made first (read them).
      if (!isDuplicateKey(e)) throw e;
    }
    const docs = await this.find(workspaceId, { messageId: { $in: events.map((e) => e.messageId) } }, { projection: { _id: 0 } });
    return new Map(docs.map((d) => [d.messageId, d.profileId]));
  }

  async release(workspaceId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length > 0) await this.deleteMany(workspaceId, { messageId: { $in: messageIds } });
  }
}
