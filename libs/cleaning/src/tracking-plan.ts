import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types';
import addFormats from 'ajv-formats';
import { PATTERN_LIMITS, patternProblem } from '@cdp/safe-regex';

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

/**
 * The regular expressions of plans run on every event, on values anyone with a write key sends,
 * so they get the checks of segment `matches` patterns (@cdp/safe-regex): a pattern that can
 * backtrack badly is refused, and a string longer than the input bound those checks assume
 * (PATTERN_LIMITS.maxInput) does not match.
 */
const boundedRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = new RegExp(pattern, flags);
    return { test: (s: string) => s.length <= PATTERN_LIMITS.maxInput && re.test(s) };
  },
  { code: 'boundedRegExp' },
);

/** Keywords whose values are data, not schemas: a `pattern` inside them is no pattern. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples']);

/** Every regular expression of a schema (`pattern` values, `patternProperties` names) and where it is. */
function schemaPatterns(schema: unknown, at: string): { pattern: string; at: string }[] {
  if (Array.isArray(schema)) return schema.flatMap((item, i) => schemaPatterns(item, `${at}/${i}`));
  if (typeof schema !== 'object' || schema === null) return [];
  return Object.entries(schema).flatMap(([key, value]) => {
    if (DATA_KEYWORDS.has(key)) return [];
    const here = `${at}/${key}`;
    const own = key === 'pattern' && typeof value === 'string' ? [{ pattern: value, at: here }] : [];
    const named =
      key === 'patternProperties' && typeof value === 'object' && value !== null
        ? Object.keys(value).map((p) => ({ pattern: p, at: here }))
        : [];
    return [...own, ...named, ...schemaPatterns(value, here)];
  });
}

/** Compiles a plan's schemas once; a schema ajv cannot compile, or with an unsafe pattern, is refused with what is wrong. */
export function compilePlan(plan: TrackingPlan): CompiledPlan {
  // One ajv per plan: its schema cache goes with the plan when the plan is reloaded.
  const ajv = new Ajv({ allErrors: true, strict: false, code: { regExp: boundedRegExp } });
  addFormats(ajv);
  const compile = (schema: unknown, what: string): ValidateFunction => {
    if (typeof schema !== 'object' || schema === null) throw new PlanError(`${what}: a schema must be a JSON object`);
    for (const { pattern, at } of schemaPatterns(schema, '#')) {
      const problem = patternProblem(pattern);
      if (problem) throw new PlanError(`${what}: the pattern at ${at} ${problem.message} (at offset ${problem.offset})`);
    }
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
