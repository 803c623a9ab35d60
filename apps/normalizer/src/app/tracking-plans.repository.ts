import { Injectable, Logger } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { isDuplicateKey, MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';
import { workspacePlan, type PlanFields, type WorkspacePlan } from './tracking-plan-doc';

export type TrackingPlanDoc = WorkspaceDocument & PlanFields;

export const PLAN_CACHE_MS = 30_000;

/** Attempts of a change that meets concurrent changes of the same plan. */
const MAX_ATTEMPTS = 5;

export class PlanConflictError extends Error {}

/** Collection `normalizer_tracking_plans`: at most one plan per workspace, compiled and cached. */
@Injectable()
export class TrackingPlansRepository extends WorkspaceRepository<TrackingPlanDoc> {
  private readonly logger = new Logger(TrackingPlansRepository.name);
  private readonly cache = new Map<string, { at: number; value: Promise<WorkspacePlan | undefined> }>();

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'normalizer_tracking_plans');
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1 }, name: 'plan_unique', unique: true }];
  }

  /** The workspace's compiled plan, or undefined for none or a plan that does not compile. */
  plan(workspaceId: string, now = Date.now()): Promise<WorkspacePlan | undefined> {
    const hit = this.cache.get(workspaceId);
    if (hit && now - hit.at < PLAN_CACHE_MS) return hit.value;
    const value = this.findOne(workspaceId, {}).then((doc) => (doc ? this.compile(workspaceId, doc) : undefined));
    value.catch(() => this.cache.delete(workspaceId));
    this.cache.set(workspaceId, { at: now, value });
    return value;
  }

  /** The stored plan, read now. */
  async read(workspaceId: string): Promise<PlanFields | null> {
    const doc = await this.findOne(workspaceId, {});
    if (!doc) return null;
    const { _id, workspaceId: _ws, ...fields } = doc;
    void _id;
    void _ws;
    return fields;
  }

  /**
   * Applies a change to the stored plan (null when there is none) and stores it, unless `change`
   * answers null (nothing to do). Compare-and-set on `version`, so two concurrent changes of
   * different events both land. This instance uses the new plan for the next event.
   */
  async change(workspaceId: string, change: (doc: PlanFields | null) => PlanFields | null): Promise<PlanFields | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.read(workspaceId);
      const next = change(current);
      if (!next) return current;
      const { version: _v, ...fields } = next;
      void _v;
      const version = (current?.version ?? 0) + 1;
      try {
        const result = await this.updateOne(
          workspaceId,
          { version: current?.version ?? { $exists: false } },
          { $set: { ...fields, version } },
          { upsert: current === null },
        );
        if (result.matchedCount > 0 || result.upsertedCount > 0) {
          this.cache.delete(workspaceId);
          return { ...fields, version };
        }
      } catch (e) {
        // Another request created the plan first: read it and apply the change to it.
        if (!isDuplicateKey(e)) throw e;
      }
    }
    throw new PlanConflictError('the tracking plan is being changed concurrently; try again');
  }

  private compile(workspaceId: string, doc: TrackingPlanDoc): WorkspacePlan | undefined {
    try {
      return workspacePlan(doc);
    } catch (e) {
      // A broken plan must not stop the pipeline: events pass unchecked until it is fixed.
      this.logger.error(`tracking plan of workspace ${workspaceId} ignored: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }
}
