import { createHmac } from 'node:crypto';
import { cleanEmail, cleanPhone } from '@cdp/cleaning';

/**
 * The PII policy of a workspace: named fields hashed (HMAC-SHA-256 keyed with the workspace's
 * salt, hex), encrypted (pii-crypto.ts) or dropped before the event leaves the normalizer. A path starts with `traits.`,
 * `properties.` or `context.`; a `traits.` rule also covers `context.traits` (where the Segment
 * spec puts traits of non-identify calls).
 */
export interface PiiRule {
  path: string;
  action: 'hash' | 'encrypt' | 'drop';
}

export const PII_ACTIONS: readonly PiiRule['action'][] = ['hash', 'encrypt', 'drop'];

/** What the actions need: the workspace's salt, and its encryption (null when no key is set up: then `encrypt` drops). */
export interface PiiSecrets {
  salt: string;
  encrypt: ((value: unknown) => string) | null;
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

/** Where an event carries each identifier type a PII rule can reach (ids at the top level it cannot). */
const IDENTIFIER_PATHS: Readonly<Record<string, string>> = {
  email: 'traits.email',
  phone: 'traits.phone',
  device_id: 'context.device.id',
  advertising_id: 'context.device.advertisingId',
};

/**
 * Each identifier as the workspace's policy stores it downstream when that hashes its field, else
 * null: what the identity graph and the profiles hold instead of the value, and so what a
 * regulation must name to find the person there. Values cleaned as events are (an email
 * lower-cased, a phone in E.164 read in the workspace's default region).
 */
export function hashedIdentifiers(
  rules: readonly PiiRule[],
  salt: string,
  identifiers: readonly { type: string; value: string }[],
  defaultRegion: string,
): { type: string; value: string; hashed: string | null }[] {
  const hashedPaths = new Set(rules.filter((r) => r.action === 'hash').map((r) => r.path));
  return identifiers.map(({ type, value }) => {
    // Cleaned as events are before hashing: the same text, the same hash.
    const clean = type === 'email' ? cleanEmail(value).value : type === 'phone' ? cleanPhone(value, defaultRegion).value : value.trim();
    const path = IDENTIFIER_PATHS[type];
    return { type, value: clean, hashed: path !== undefined && hashedPaths.has(path) && salt !== '' ? hashValue(salt, clean) : null };
  });
}

/** Applies one rule at `segments` below `root`, in place; a missing path is left alone. */
function applyAt(root: unknown, segments: string[], action: PiiRule['action'], secrets: PiiSecrets): void {
  let node = root;
  for (const segment of segments.slice(0, -1)) {
    // Own properties only: a path through __proto__ must never reach a shared prototype.
    if (!isObject(node) || !Object.hasOwn(node, segment)) return;
    node = node[segment];
  }
  const last = segments[segments.length - 1] as string;
  if (!isObject(node) || !Object.hasOwn(node, last)) return;
  const value = node[last];
  // Without a key an encrypted field is dropped: it must never go on in the clear.
  if (action === 'drop' || value === null || value === undefined || (action === 'encrypt' && !secrets.encrypt)) delete node[last];
  else node[last] = action === 'hash' ? hashValue(secrets.salt, value) : (secrets.encrypt as (value: unknown) => string)(value);
}

/** The fields with the policy applied (a copy; the input is not changed). */
export function applyPii(rules: readonly PiiRule[], secrets: PiiSecrets, fields: EventFields): EventFields {
  if (rules.length === 0) return fields;
  const out = structuredClone(fields);
  for (const rule of rules) {
    const [root, ...rest] = rule.path.split('.') as [keyof EventFields, ...string[]];
    applyAt(out[root], rest, rule.action, secrets);
    if (root === 'traits') applyAt(out.context['traits'], rest, rule.action, secrets);
  }
  return out;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `[{path, action}]` from an API body, or the first problem. */
export function parsePiiRules(input: unknown): Parsed<PiiRule[]> {
  if (!Array.isArray(input)) return { ok: false, problem: 'pii must be a list of {"path": "traits.email", "action": "hash|encrypt|drop"}' };
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
    // The traits of a track/page/screen call are read from context.traits into `traits` before the
    // PII step: a rule on context.traits would leave that copy in the clear. `traits.` covers both.
    if (path === 'context.traits' || path.startsWith('context.traits.'))
      return {
        ok: false,
        problem: `pii[${i}].path ${path}: write it as ${path.slice('context.'.length)}, which covers context.traits too`,
      };
    const action = r['action'];
    if (!PII_ACTIONS.includes(action as PiiRule['action'])) return { ok: false, problem: `pii[${i}].action must be hash, encrypt or drop` };
    // Two rules on one field would both apply, in order (a hash of the hash, or a drop after it).
    const earlier = rules.findIndex((e) => e.path === path);
    if (earlier >= 0) return { ok: false, problem: `pii[${i}].path ${path} has a rule already (pii[${earlier}]): one rule per field` };
    rules.push({ path, action: action as PiiRule['action'] });
  }
  return { ok: true, value: rules };
}
