import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export type PlanMode = 'allow' | 'flag' | 'block';

/** A workspace's tracking plan: a JSON Schema per track event name (for properties) and for identify traits. */
export interface TrackingPlan {
  mode: PlanMode;
  /** Track event name -> JSON Schema of its properties. */
  events: Record<string, unknown>;
  /** JSON Schema of identify traits; absent means any traits. */
  traits?: unknown;
  /** When false, a track event the plan does not name is a violation [true]. */
  allowUnplannedEvents?: boolean;
}

export interface CompiledPlan {
  mode: PlanMode;
  events: Map<string, ValidateFunction>;
  traits: ValidateFunction | undefined;
  allowUnplannedEvents: boolean;
}

/** Most violations reported per event: enough to act on, bounded in size. */
const MAX_VIOLATIONS = 20;

export class PlanError extends Error {}

/** Compiles a plan's schemas once; a schema ajv cannot compile is refused with what is wrong. */
export function compilePlan(plan: TrackingPlan): CompiledPlan {
  // One ajv per plan: its schema cache goes with the plan when the plan is reloaded.
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const compile = (schema: unknown, what: string): ValidateFunction => {
    if (typeof schema !== 'object' || schema === null) throw new PlanError(`${what}: a schema must be a JSON object`);
    try {
      return ajv.compile(schema);
    } catch (e) {
      throw new PlanError(`${what}: ${e instanceof Error ? e.message : 'invalid schema'}`);
    }
  };
  return {
    mode: plan.mode,
    events: new Map(Object.entries(plan.events).map(([name, schema]) => [name, compile(schema, `event "${name}"`)])),
    traits: plan.traits === undefined ? undefined : compile(plan.traits, 'traits'),
    allowUnplannedEvents: plan.allowUnplannedEvents !== false,
  };
}

const describe = (where: string, e: ErrorObject): string => `${where}${e.instancePath || ''} ${e.message ?? 'is invalid'}`.trim();

/**
 * What a cleaned event does not respect in the plan, as short messages
 * (`properties/total must be number`). Only track properties and identify traits are checked.
 */
export function planViolations(
  plan: CompiledPlan,
  event: { type: string; event: string | null; properties: unknown; traits: unknown },
): string[] {
  let validate: ValidateFunction | undefined;
  let where: string;
  let value: unknown;
  if (event.type === 'track' && event.event !== null) {
    validate = plan.events.get(event.event);
    if (!validate) return plan.allowUnplannedEvents ? [] : [`event "${event.event}" is not in the tracking plan`];
    where = 'properties';
    value = event.properties;
  } else if (event.type === 'identify' && plan.traits) {
    validate = plan.traits;
    where = 'traits';
    value = event.traits;
  } else return [];
  if (validate(value)) return [];
  return (validate.errors ?? []).slice(0, MAX_VIOLATIONS).map((e) => describe(where, e));
}
