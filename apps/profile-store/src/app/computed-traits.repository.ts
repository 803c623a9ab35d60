import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import { stateKey, type ComputedTraitDefinition } from './user-computed-traits';

/** A definition's backfill over the stored timelines (see computed-trait-backfill.ts). */
export interface BackfillProgress {
  /** The definition the backfill computes (a redefinition starts a new one). */
  stateKey: string;
  status: 'waiting' | 'running' | 'done' | 'failed';
  /** Not started before this (the live path must see the definition first). */
  startAfter: number;
  /** The last timeline _id applied, or null before the first batch. */
  cursor: string | null;
  eventsScanned: number;
  /** The workspace's timeline size when the backfill started (null until counted). */
  eventsTotal: number | null;
  profilesUpdated: number;
  /** Summed time spent in batches, so the rate survives a restart. */
  busyMs: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  owner: string | null;
  leaseUntil: number;
}

export interface ComputedTraitDoc extends WorkspaceDocument, ComputedTraitDefinition {
  updatedAt: number;
  backfill?: BackfillProgress;
}

/** A pending backfill with its workspace and definition. */
export interface BackfillJob {
  workspaceId: string;
  def: ComputedTraitDefinition;
  progress: BackfillProgress;
}

/** How long a workspace's definitions are cached by the consumer: a change takes effect within this. */
export const DEFINITIONS_TTL_MS = 2_000;
/** Most definitions per workspace (each adds state to every profile it matches). */
export const MAX_DEFINITIONS = 50;
/**
 * A backfill starts this long after its definition is written: by then every consumer uses the
 * definition (DEFINITIONS_TTL_MS) and a chunk processed without it has recorded its timeline.
 */
export const BACKFILL_START_DELAY_MS = 10_000;

const definitionOf = (d: ComputedTraitDoc): ComputedTraitDefinition => ({
  name: d.name,
  event: d.event,
  property: d.property,
  aggregation: d.aggregation,
  windowDays: d.windowDays,
});
const isPending = (p: BackfillProgress | undefined): boolean => p?.status === 'waiting' || p?.status === 'running';

/** `computed_trait_definitions`: one document per workspace and trait name, with its backfill progress. */
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
    return (await this.listWithProgress(workspaceId)).map((d) => d.def);
  }

  async listWithProgress(workspaceId: string): Promise<{ def: ComputedTraitDefinition; backfill: BackfillProgress | null }[]> {
    const docs = await this.find(workspaceId, {}, { sort: { name: 1 }, projection: { _id: 0 } });
    return docs.map((d) => ({ def: definitionOf(d), backfill: d.backfill ?? null }));
  }

  /** The workspace's definitions, cached for DEFINITIONS_TTL_MS (read once per chunk); flagged while backfilling. */
  cached(workspaceId: string, now = Date.now()): Promise<ComputedTraitDefinition[]> {
    const hit = this.cache.get(workspaceId);
    if (hit && now - hit.at < DEFINITIONS_TTL_MS) return hit.defs;
    const defs = this.listWithProgress(workspaceId).then((list) =>
      list.map(({ def, backfill }) => (isPending(backfill ?? undefined) ? { ...def, backfilling: true } : def)),
    );
    this.cache.set(workspaceId, { at: now, defs });
    defs.catch(() => this.cache.delete(workspaceId));
    return defs;
  }

  async get(workspaceId: string, name: string): Promise<ComputedTraitDefinition | null> {
    return (await this.getWithProgress(workspaceId, name))?.def ?? null;
  }

  async getWithProgress(
    workspaceId: string,
    name: string,
  ): Promise<{ def: ComputedTraitDefinition; backfill: BackfillProgress | null } | null> {
    const doc = await this.findOne(workspaceId, { name }, { projection: { _id: 0 } });
    return doc ? { def: definitionOf(doc), backfill: doc.backfill ?? null } : null;
  }

  /** Creates or replaces a definition; a new or changed one gets a new backfill (an unchanged one keeps its state and backfill). */
  async put(workspaceId: string, def: ComputedTraitDefinition, now: number): Promise<void> {
    const existing = await this.get(workspaceId, def.name);
    const fresh = !existing || stateKey(existing) !== stateKey(def);
    const backfill: BackfillProgress = {
      stateKey: stateKey(def),
      status: 'waiting',
      startAfter: now + BACKFILL_START_DELAY_MS,
      cursor: null,
      eventsScanned: 0,
      eventsTotal: null,
      profilesUpdated: 0,
      busyMs: 0,
      startedAt: null,
      finishedAt: null,
      error: null,
      owner: null,
      leaseUntil: 0,
    };
    const { name, event, property, aggregation, windowDays } = def;
    const fields = { workspaceId, name, event, property, aggregation, windowDays, updatedAt: now, ...(fresh ? { backfill } : {}) };
    await this.updateOne(workspaceId, { name }, { $set: fields }, { upsert: true });
    this.cache.delete(workspaceId);
  }

  async remove(workspaceId: string, name: string): Promise<boolean> {
    const result = await this.deleteMany(workspaceId, { name });
    this.cache.delete(workspaceId);
    return result.deletedCount > 0;
  }

  /**
   * Backfills due to run, of every workspace (the worker's cross-workspace access). Scans the
   * collection, which holds at most MAX_DEFINITIONS documents per workspace.
   */
  async dueBackfills(now: number): Promise<BackfillJob[]> {
    const docs = await this.collection
      .find({ 'backfill.status': { $in: ['waiting', 'running'] }, 'backfill.startAfter': { $lte: now } }, { projection: { _id: 0 } })
      .toArray();
    return docs.flatMap((d) =>
      d.backfill ? [{ workspaceId: d.workspaceId, def: { ...definitionOf(d), backfilling: true }, progress: d.backfill }] : [],
    );
  }

  /**
   * Takes (or renews) the lease of a backfill for `owner`, with its progress fields; false when the
   * definition changed or another worker holds the lease.
   */
  async leaseBackfill(
    workspaceId: string,
    name: string,
    sk: string,
    owner: string,
    now: number,
    leaseMs: number,
    fields: Partial<BackfillProgress> = {},
  ): Promise<boolean> {
    const set: Record<string, unknown> = { 'backfill.owner': owner, 'backfill.leaseUntil': now + leaseMs };
    for (const [k, v] of Object.entries(fields)) set[`backfill.${k}`] = v;
    const result = await this.updateOne(
      workspaceId,
      { name, 'backfill.stateKey': sk, $or: [{ 'backfill.leaseUntil': { $lt: now } }, { 'backfill.owner': owner }] },
      { $set: set },
    );
    if (fields.status === 'done' || fields.status === 'failed') this.cache.delete(workspaceId);
    return result.matchedCount === 1;
  }
}
