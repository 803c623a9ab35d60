import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/** A workspace's own profile-store settings (absent: the service defaults). */
export interface ProfileSettingsDoc extends WorkspaceDocument {
  /** Days a timeline entry is kept, by event timestamp; 0: forever. */
  timelineRetentionDays: number;
  updatedAt: number;
}

/** `profile_settings`: at most one document per workspace. */
@Injectable()
export class ProfileSettingsRepository extends WorkspaceRepository<ProfileSettingsDoc> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'profile_settings');
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1 }, name: 'workspace', unique: true }];
  }

  get(workspaceId: string): Promise<ProfileSettingsDoc | null> {
    return this.findOne(workspaceId, {}, { projection: { _id: 0 } });
  }

  async set(workspaceId: string, timelineRetentionDays: number, now: number): Promise<void> {
    await this.updateOne(workspaceId, {}, { $set: { workspaceId, timelineRetentionDays, updatedAt: now } }, { upsert: true });
  }

  /** Every workspace's settings: the retention sweep's one cross-workspace read (one small document per workspace). */
  async all(): Promise<ProfileSettingsDoc[]> {
    return this.collection.find({}, { projection: { _id: 0 } }).toArray() as Promise<ProfileSettingsDoc[]>;
  }
}
