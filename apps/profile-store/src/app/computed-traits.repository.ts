import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import type { ComputedTraitDefinition } from './user-computed-traits';

export interface ComputedTraitDoc extends WorkspaceDocument, ComputedTraitDefinition {
  updatedAt: number;
}

/** How long a workspace's definitions are cached by the consumer: a change takes effect within this. */
export const DEFINITIONS_TTL_MS = 2_000;
/** Most definitions per workspace (each adds state to every profile it matches). */
export const MAX_DEFINITIONS = 50;

/** `computed_trait_definitions`: one document per workspace and trait name. */
@Injectable()
export class ComputedTraitsRepository extends WorkspaceRepository<ComputedTraitDoc> {
  private readonly cache = new Map<string, { at: number; defs: Promise<ComputedTraitDefinition[]> }>();

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'computed_trait_definitions', ['name']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, name: 1 }, name: 'workspace_name', unique: true }];
  }

  async list(workspaceId: string): Promise<ComputedTraitDefinition[]> {
    const docs = await this.find(workspaceId, {}, { sort: { name: 1 }, projection: { _id: 0 } });
    return docs.map(({ name, event, property, aggregation, windowDays }) => ({ name, event, property, aggregation, windowDays }));
  }

  /** The workspace's definitions, cached for DEFINITIONS_TTL_MS (read once per chunk). */
  cached(workspaceId: string, now = Date.now()): Promise<ComputedTraitDefinition[]> {
    const hit = this.cache.get(workspaceId);
    if (hit && now - hit.at < DEFINITIONS_TTL_MS) return hit.defs;
    const defs = this.list(workspaceId);
    this.cache.set(workspaceId, { at: now, defs });
    defs.catch(() => this.cache.delete(workspaceId));
    return defs;
  }

  async get(workspaceId: string, name: string): Promise<ComputedTraitDefinition | null> {
    const doc = await this.findOne(workspaceId, { name }, { projection: { _id: 0 } });
    return doc
      ? { name: doc.name, event: doc.event, property: doc.property, aggregation: doc.aggregation, windowDays: doc.windowDays }
      : null;
  }

  async put(workspaceId: string, def: ComputedTraitDefinition, now: number): Promise<void> {
    await this.updateOne(workspaceId, { name: def.name }, { $set: { workspaceId, ...def, updatedAt: now } }, { upsert: true });
    this.cache.delete(workspaceId);
  }

  async remove(workspaceId: string, name: string): Promise<boolean> {
    const result = await this.deleteMany(workspaceId, { name });
    this.cache.delete(workspaceId);
    return result.deletedCount > 0;
  }
}
