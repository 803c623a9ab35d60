import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import type { CleaningOptions } from '@cdp/cleaning';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/** A workspace's cleaning settings; absent fields take the defaults. */
export interface SettingsDoc extends WorkspaceDocument {
  defaultRegion?: string;
  anonymizeIp?: boolean;
}

export const DEFAULT_SETTINGS: Required<CleaningOptions> = { defaultRegion: 'US', anonymizeIp: false };

/** How long a workspace's settings are reused before they are read again. */
export const SETTINGS_CACHE_MS = 30_000;

/** Collection `normalizer_settings`: one document per workspace, read through a short cache. */
@Injectable()
export class SettingsRepository extends WorkspaceRepository<SettingsDoc> {
  private readonly cache = new Map<string, { at: number; value: Promise<Required<CleaningOptions>> }>();

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'normalizer_settings');
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1 }, name: 'settings_unique', unique: true }];
  }

  options(workspaceId: string, now = Date.now()): Promise<Required<CleaningOptions>> {
    const hit = this.cache.get(workspaceId);
    if (hit && now - hit.at < SETTINGS_CACHE_MS) return hit.value;
    const value = this.findOne(workspaceId, {}).then((doc) => ({
      defaultRegion: typeof doc?.defaultRegion === 'string' && doc.defaultRegion ? doc.defaultRegion : DEFAULT_SETTINGS.defaultRegion,
      anonymizeIp: doc?.anonymizeIp === true,
    }));
    // A failed read is not cached: the chunk fails and is redelivered.
    value.catch(() => this.cache.delete(workspaceId));
    this.cache.set(workspaceId, { at: now, value });
    return value;
  }
}
