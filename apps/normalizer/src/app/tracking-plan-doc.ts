import { compilePlan, type CompiledPlan, type PlanMode } from '@cdp/cleaning';

/**
 * A stored tracking plan. Schemas are JSON text: JSON Schema keys such as `$ref` may not be
 * MongoDB field names, and event names may contain dots. `mode` is the plan's default; an event
 * (or the identify traits) may have a mode of its own.
 */
export interface PlanFields {
  mode: PlanMode;
  events?: { name: string; schema: string; mode?: PlanMode }[];
  traits?: string;
  /** The traits schema's own mode; absent or null: the plan's. */
  traitsMode?: PlanMode | null;
  allowUnplannedEvents?: boolean;
  /** Bumped by every API change: concurrent changes of one plan retry instead of overwriting each other. */
  version?: number;
}

/** A plan ready to check events: compiled schemas and the mode that applies to each kind of event. */
export interface WorkspacePlan {
  compiled: CompiledPlan;
  modeOf(event: { type: string; event: string | null }): PlanMode;
}

export const PLAN_MODES: readonly PlanMode[] = ['allow', 'flag', 'block'];
export const isPlanMode = (v: unknown): v is PlanMode => typeof v === 'string' && (PLAN_MODES as readonly string[]).includes(v);

/** Longest schema accepted, as JSON text: a plan is read per workspace into memory. */
export const MAX_SCHEMA_CHARS = 64 * 1024;
export const MAX_EVENT_NAME_CHARS = 200;
export const MAX_PLAN_EVENTS = 2_000;

/** Compiles a stored plan; throws PlanError when a stored schema does not compile. */
export function workspacePlan(doc: PlanFields): WorkspacePlan {
  const compiled = compilePlan({
    mode: doc.mode,
    events: Object.fromEntries((doc.events ?? []).map((e) => [e.name, JSON.parse(e.schema) as unknown])),
    traits: doc.traits ? (JSON.parse(doc.traits) as unknown) : undefined,
    allowUnplannedEvents: doc.allowUnplannedEvents !== false,
  });
  const modes = new Map((doc.events ?? []).map((e) => [e.name, e.mode ?? doc.mode]));
  return {
    compiled,
    modeOf: (e) => {
      if (e.type === 'track' && e.event !== null) return modes.get(e.event) ?? doc.mode;
      if (e.type === 'identify' && doc.traits) return doc.traitsMode ?? doc.mode;
      return 'allow';
    },
  };
}

/** What the API shows of one event's (or the traits') plan. */
export interface PlanEntryView {
  name?: string;
  mode: PlanMode;
  schema: unknown;
}

export interface PlanView {
  mode: PlanMode;
  allowUnplannedEvents: boolean;
  events: (PlanEntryView & { name: string })[];
  traits: PlanEntryView | null;
}

export const EMPTY_PLAN: PlanFields = { mode: 'flag', events: [], allowUnplannedEvents: true };

export function planView(doc: PlanFields | null): PlanView {
  const d = doc ?? EMPTY_PLAN;
  return {
    mode: d.mode,
    allowUnplannedEvents: d.allowUnplannedEvents !== false,
    events: (d.events ?? [])
      .map((e) => ({ name: e.name, mode: e.mode ?? d.mode, schema: JSON.parse(e.schema) as unknown }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    traits: d.traits ? { mode: d.traitsMode ?? d.mode, schema: JSON.parse(d.traits) as unknown } : null,
  };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A PUT body for one event (or the traits): `{schema, mode?}`, the schema compiled with ajv so a
 * broken schema is refused now, with what is wrong, rather than ignored at event time. Without a
 * mode of its own the entry follows the plan's, also when that changes later.
 */
export function parseEntry(what: string, body: unknown): Parsed<{ schema: string; mode?: PlanMode }> {
  if (!isObject(body)) return { ok: false, problem: 'the body must be a JSON object {"schema": {...}, "mode": "allow|flag|block"}' };
  const unknown = Object.keys(body).find((k) => k !== 'schema' && k !== 'mode');
  if (unknown !== undefined) return { ok: false, problem: `unknown field ${JSON.stringify(unknown)} (known: schema, mode)` };
  const mode = body['mode'];
  if (mode !== undefined && !isPlanMode(mode)) return { ok: false, problem: 'mode must be one of allow, flag, block' };
  const schema = body['schema'];
  if (!isObject(schema)) return { ok: false, problem: 'schema must be a JSON Schema object' };
  const text = JSON.stringify(schema);
  if (text.length > MAX_SCHEMA_CHARS) return { ok: false, problem: `schema is longer than ${MAX_SCHEMA_CHARS} characters as JSON` };
  try {
    compilePlan({ mode: mode ?? EMPTY_PLAN.mode, events: { [what]: schema } });
  } catch (e) {
    return { ok: false, problem: `invalid JSON Schema: ${e instanceof Error ? e.message : String(e)}` };
  }
  return { ok: true, value: mode === undefined ? { schema: text } : { schema: text, mode } };
}

/** A PUT body for the plan's own options: `{mode?, allowUnplannedEvents?}`; omitted fields take the defaults. */
export function parsePlanOptions(body: unknown): Parsed<{ mode: PlanMode; allowUnplannedEvents: boolean }> {
  if (!isObject(body)) return { ok: false, problem: 'the body must be a JSON object' };
  const unknown = Object.keys(body).find((k) => k !== 'mode' && k !== 'allowUnplannedEvents');
  if (unknown !== undefined) return { ok: false, problem: `unknown field ${JSON.stringify(unknown)} (known: mode, allowUnplannedEvents)` };
  const mode = body['mode'] ?? EMPTY_PLAN.mode;
  if (!isPlanMode(mode)) return { ok: false, problem: 'mode must be one of allow, flag, block' };
  const allow = body['allowUnplannedEvents'] ?? true;
  if (typeof allow !== 'boolean') return { ok: false, problem: 'allowUnplannedEvents must be true or false' };
  return { ok: true, value: { mode, allowUnplannedEvents: allow } };
}

export const eventNameProblem = (name: string): string | null =>
  name.trim() === ''
    ? 'the event name is empty'
    : name.length > MAX_EVENT_NAME_CHARS
      ? `the event name is longer than ${MAX_EVENT_NAME_CHARS} characters`
      : null;

/** The plan with one event's entry set (added or replaced). */
export function withEvent(doc: PlanFields | null, name: string, entry: { schema: string; mode?: PlanMode }): PlanFields {
  const d = doc ?? EMPTY_PLAN;
  return { ...d, events: [...(d.events ?? []).filter((e) => e.name !== name), { name, ...entry }] };
}

export function withoutEvent(doc: PlanFields, name: string): PlanFields {
  return { ...doc, events: (doc.events ?? []).filter((e) => e.name !== name) };
}
