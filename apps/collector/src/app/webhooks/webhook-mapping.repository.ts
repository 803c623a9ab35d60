import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository } from '@cdp/mongo';
import type { WebhookMapping } from './webhook-mapping';

export interface WebhookMappingRecord {
  workspaceId: string;
  sourceId: string;
  mapping: WebhookMapping;
  updatedAt: Date;
}

/** Stored as JSON text: mapping keys such as `properties.amount` are not valid Mongo field names. */
interface StoredMapping {
  workspaceId: string;
  sourceId: string;
  mappingJson: string;
  updatedAt: Date;
}

const CACHE_MS = 10_000;

/** `webhook_mappings`: one per source, under _id = workspace:sourceId. Reads are cached briefly per instance. */
@Injectable()
export class WebhookMappingRepository extends WorkspaceRepository<StoredMapping> implements OnModuleInit {
  private readonly cache = new Map<string, { record: WebhookMappingRecord | null; until: number }>();

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'webhook_mappings', ['sourceId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, sourceId: 1 }, unique: true }];
  }

  async onModuleInit(): Promise<void> {
    await this.ensureIndexes();
  }

  async get(workspaceId: string, sourceId: string, fresh = false): Promise<WebhookMappingRecord | null> {
    const id = this.keyId(workspaceId, sourceId);
    const cached = this.cache.get(id);
    if (!fresh && cached && cached.until > Date.now()) return cached.record;
    const found = await this.findOne(workspaceId, { sourceId });
    const record = found
      ? { workspaceId, sourceId, mapping: JSON.parse(found.mappingJson) as WebhookMapping, updatedAt: found.updatedAt }
      : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { record, until: Date.now() + CACHE_MS });
    return record;
  }

  async put(workspaceId: string, sourceId: string, mapping: WebhookMapping): Promise<WebhookMappingRecord> {
    const updatedAt = new Date();
    await this.updateOne(
      workspaceId,
      { sourceId },
      { $set: { mappingJson: JSON.stringify(mapping), updatedAt }, $setOnInsert: { sourceId } },
      { upsert: true },
    );
    this.cache.delete(this.keyId(workspaceId, sourceId));
    return { workspaceId, sourceId, mapping, updatedAt };
  }

  async remove(workspaceId: string, sourceId: string): Promise<boolean> {
    const result = await this.deleteMany(workspaceId, { sourceId });
    this.cache.delete(this.keyId(workspaceId, sourceId));
    return result.deletedCount > 0;
  }
}
