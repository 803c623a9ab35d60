import { Injectable, Logger } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import { compilePlan, type CompiledPlan, type PlanMode, type TrackingPlan } from '@cdp/cleaning';
import { MongoConnection, WorkspaceRepository, type WorkspaceDocument } from '@cdp/mongo';

/**
 * A stored tracking plan. Schemas are JSON text: JSON Schema keys such as `$ref` may not be
 * MongoDB field names, and event names may contain dots.
 */
export interface TrackingPlanDoc extends WorkspaceDocument {
  mode: PlanMode;
  events?: { name: string; schema: string }[];
  traits?: string;
  allowUnplannedEvents?: boolean;
}

export const PLAN_CACHE_MS = 30_000;

/** Collection `normalizer_tracking_plans`: at most one plan per workspace, compiled and cached. */
@Injectable()
export class TrackingPlansRepository extends WorkspaceRepository<TrackingPlanDoc> {
  private readonly logger = new Logger(TrackingPlansRepository.name);
  private readonly cache = new Map<string, { at: number; value: Promise<CompiledPlan | undefined> }>();

  constructor(mongo: MongoConnection) {
    super(mongo.db, 'normalizer_tracking_plans');
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1 }, name: 'plan_unique', unique: true }];
  }

  /** The workspace's compiled plan, or undefined for none, mode allow, or a plan that does not compile. */
  plan(workspaceId: string, now = Date.now()): Promise<CompiledPlan | undefined> {
    const hit = this.cache.get(workspaceId);
    if (hit && now - hit.at < PLAN_CACHE_MS) return hit.value;
    const value = this.findOne(workspaceId, {}).then((doc) => (doc && doc.mode !== 'allow' ? this.compile(workspaceId, doc) : undefined));
    value.catch(() => this.cache.delete(workspaceId));
    this.cache.set(workspaceId, { at: now, value });
    return value;
  }

  private compile(workspaceId: string, doc: TrackingPlanDoc): CompiledPlan | undefined {
    try {
      const plan: TrackingPlan = {
        mode: doc.mode,
        events: Object.fromEntries((doc.events ?? []).map((e) => [e.name, JSON.parse(e.schema) as unknown])),
        traits: doc.traits ? (JSON.parse(doc.traits) as unknown) : undefined,
        allowUnplannedEvents: doc.allowUnplannedEvents !== false,
      };
      return compilePlan(plan);
    } catch (e) {
      // A broken plan must not stop the pipeline: events pass unchecked until it is fixed.
      this.logger.error(`tracking plan of workspace ${workspaceId} ignored: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }
}
