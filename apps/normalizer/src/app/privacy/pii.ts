import { createHmac } from 'node:crypto';

/**
 * The PII policy of a workspace: named fields hashed (HMAC-SHA-256 keyed with the workspace's
 * salt, hex) or dropped before the event leaves the normalizer. A path starts with `traits.`,
 * `properties.` or `context.`; a `traits.` rule also covers `context.traits` (where the Segment
 * spec puts traits of non-identify calls).
 */
export interface PiiRule {
  path: string;
  action: 'hash' | 'drop';
}

export const MAX_PII_RULES = 200;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const PATH = /^(traits|properties|context)(\.[^.$\s][^.\s]{0,99}){1,8}$/;

export interface EventFields {
  traits: Record<string, unknown>;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
}

/** The hash of one value: stable per workspace, unreadable without the salt. */
export function hashValue(salt: string, value: unknown): string {
  return createHmac('sha256', salt)
    .update(typeof value === 'string' ? value : JSON.stringify(value))
    .digest('hex');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Applies one rule at `segments` below `root`, in place; a missing path is left alone. */
function applyAt(root: unknown, segments: string[], action: PiiRule['action'], salt: string): void {
  let node = root;
  for (const segment of segments.slice(0, -1)) {
    // Own properties only: a path through __proto__ must never reach a shared prototype.
    if (!isObject(node) || !Object.hasOwn(node, segment)) return;
    node = node[segment];
  }
  const last = segments[segments.length - 1] as string;
  if (!isObject(node) || !Object.hasOwn(node, last)) return;
  const value = node[last];
  if (action === 'drop' || value === null || value === undefined) delete node[last];
  else node[last] = hashValue(salt, value);
}

/** The fields with the policy applied (a copy; the input is not changed). */
export function applyPii(rules: readonly PiiRule[], salt: string, fields: EventFields): EventFields {
  if (rules.length === 0) return fields;
  const out = structuredClone(fields);
  for (const rule of rules) {
    const [root, ...rest] = rule.path.split('.') as [keyof EventFields, ...string[]];
    applyAt(out[root], rest, rule.action, salt);
    if (root === 'traits') applyAt(out.context['traits'], rest, rule.action, salt);
  }
  return out;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `[{path, action}]` from an API body, or the first problem. */
export function parsePiiRules(input: unknown): Parsed<PiiRule[]> {
  if (!Array.isArray(input)) return { ok: false, problem: 'pii must be a list of {"path": "traits.email", "action": "hash|drop"}' };
  if (input.length > MAX_PII_RULES) return { ok: false, problem: `pii has more than ${MAX_PII_RULES} rules` };
  const rules: PiiRule[] = [];
  for (const [i, rule] of input.entries()) {
    const r = rule as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return { ok: false, problem: `pii[${i}] must be an object` };
    const unknown = Object.keys(r).find((k) => k !== 'path' && k !== 'action');
    if (unknown !== undefined) return { ok: false, problem: `pii[${i}] has an unknown field ${JSON.stringify(unknown)}` };
    const path = r['path'];
    if (typeof path !== 'string' || !PATH.test(path) || path.split('.').some((s) => FORBIDDEN.has(s)))
      return {
        ok: false,
        problem: `pii[${i}].path must be traits.<field>, properties.<field> or context.<field> (dots between nested fields)`,
      };
    const action = r['action'];
    if (action !== 'hash' && action !== 'drop') return { ok: false, problem: `pii[${i}].action must be hash or drop` };
    rules.push({ path, action });
  }
  return { ok: true, value: rules };
}
