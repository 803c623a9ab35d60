import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import type { CleaningOptions } from '@cdp/cleaning';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import type { SettingsInput } from './api/settings-input';
import type { ConsentRule } from './privacy/consent';
import type { PiiRule } from './privacy/pii';

/** A workspace's settings; absent fields take the defaults. */
export interface SettingsDoc extends WorkspaceDocument {
  defaultRegion?: string;
  anonymizeIp?: boolean;
  consent?: ConsentRule[];
  pii?: PiiRule[];
  /** Key of the PII hashes; made once per workspace, never shown. */
  piiSalt?: string;
}

/** Everything the pipeline needs of a workspace's settings. */
export interface WorkspaceSettings {
  cleaning: Required<CleaningOptions>;
  consent: ConsentRule[];
  pii: PiiRule[];
  piiSalt: string;
}

export const DEFAULT_SETTINGS: Required<CleaningOptions> = { defaultRegion: 'US', anonymizeIp: false };

/** How long a workspace's settings are reused before they are read again. */
export const SETTINGS_CACHE_MS = 30_000;

const settingsOf = (doc: SettingsDoc | null): WorkspaceSettings => ({
  cleaning: {
    defaultRegion: typeof doc?.defaultRegion === 'string' && doc.defaultRegion ? doc.defaultRegion : DEFAULT_SETTINGS.defaultRegion,
    anonymizeIp: doc?.anonymizeIp === true,
  },
  consent: Array.isArray(doc?.consent) ? doc.consent : [],
  pii: Array.isArray(doc?.pii) ? doc.pii : [],
  piiSalt: typeof doc?.piiSalt === 'string' ? doc.piiSalt : '',
});

/** Collection `normalizer_settings`: one document per workspace, read through a short cache. */
@Injectable()
export class SettingsRepository extends WorkspaceRepository<SettingsDoc> {
  private readonly cache = new Map<string, { at: number; value: Promise<WorkspaceSettings> }>();

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'normalizer_settings');
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1 }, name: 'settings_unique', unique: true }];
  }

  settings(workspaceId: string, now = Date.now()): Promise<WorkspaceSettings> {
    const hit = this.cache.get(workspaceId);
    if (hit && now - hit.at < SETTINGS_CACHE_MS) return hit.value;
    const value = this.findOne(workspaceId, {}).then(async (doc) => {
      if (!doc?.pii?.length || doc.piiSalt) return settingsOf(doc);
      // PII rules written without the API: make the salt now rather than hash with none.
      await this.ensureSalt(workspaceId);
      return settingsOf(await this.findOne(workspaceId, {}));
    });
    // A failed read is not cached: the chunk fails and is redelivered.
    value.catch(() => this.cache.delete(workspaceId));
    this.cache.set(workspaceId, { at: now, value });
    return value;
  }

  async options(workspaceId: string, now = Date.now()): Promise<Required<CleaningOptions>> {
    return (await this.settings(workspaceId, now)).cleaning;
  }

  /** The stored settings with the defaults filled in, read now (not through the cache); never the salt. */
  async effective(workspaceId: string): Promise<SettingsInput> {
    this.cache.delete(workspaceId);
    const s = await this.settings(workspaceId);
    return { ...s.cleaning, consent: s.consent, pii: s.pii };
  }

  /** Replaces the workspace's settings; this instance uses them for the next event, others within the cache period. */
  async replace(workspaceId: string, settings: SettingsInput): Promise<SettingsInput> {
    await this.updateOne(workspaceId, {}, { $set: { ...settings } }, { upsert: true });
    await this.ensureSalt(workspaceId);
    return this.effective(workspaceId);
  }

  /** The salt is made once: only where there is none yet, so a concurrent write cannot change it. */
  private async ensureSalt(workspaceId: string): Promise<void> {
    await this.updateOne(workspaceId, { piiSalt: { $exists: false } }, { $set: { piiSalt: randomBytes(32).toString('base64url') } });
  }
}
