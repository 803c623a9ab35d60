import { createHash } from 'node:crypto';
import { isEventType } from '@cdp/contracts';

/**
 * How a third-party webhook payload becomes a Segment call. A mapping names Segment fields
 * (`type`, `event`, `userId`, `properties`, ... or one level deeper: `properties.<name>`,
 * `traits.<name>`, `context.<name>`) and says where each comes from:
 * - a string starting with `/`: a JSON pointer (RFC 6901) into the payload, e.g. `/user/id`;
 * - the empty string: the whole payload;
 * - any other string, or `{"const": <any JSON>}`: that value as is (e.g. `"type": "track"`).
 * Pure: the controller does the I/O.
 */
export type Source = { pointer: string } | { const: unknown };
export type WebhookMapping = Record<string, string | { const: unknown }>;

export class WebhookMappingError extends Error {}

const TOP_FIELDS = [
  'type',
  'event',
  'userId',
  'anonymousId',
  'messageId',
  'timestamp',
  'name',
  'category',
  'groupId',
  'previousId',
  'properties',
  'traits',
  'context',
] as const;
const NESTED = /^(properties|traits|context)\.([A-Za-z0-9_][A-Za-z0-9_ -]{0,99})$/;
const MAX_ENTRIES = 100;
const OBJECT_FIELDS = new Set(['properties', 'traits', 'context']);

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a mapping as sent to the admin API; each problem is named by its field. */
export function validateMapping(input: unknown): WebhookMapping {
  if (!isObject(input)) throw new WebhookMappingError('mapping must be a JSON object of <Segment field>: <JSON pointer or value>');
  const entries = Object.entries(input);
  if (entries.length > MAX_ENTRIES) throw new WebhookMappingError(`mapping has more than ${MAX_ENTRIES} fields`);
  for (const [target, spec] of entries) {
    if (!(TOP_FIELDS as readonly string[]).includes(target) && !NESTED.test(target))
      throw new WebhookMappingError(
        `mapping.${target}: not a Segment field; use one of ${TOP_FIELDS.join(', ')} or properties.<name>, traits.<name>, context.<name>`,
      );
    if (typeof spec === 'string') {
      if (spec.startsWith('/') && spec.length > 1000) throw new WebhookMappingError(`mapping.${target}: pointer is too long`);
      continue;
    }
    if (isObject(spec) && Object.keys(spec).length === 1 && 'const' in spec) continue;
    throw new WebhookMappingError(
      `mapping.${target}: must be a JSON pointer ("/a/b"), "" for the whole payload, a literal string, or {"const": value}`,
    );
  }
  const type = input['type'];
  if (type === undefined) throw new WebhookMappingError('mapping.type is required (e.g. "track", or a pointer to the payload\'s type)');
  const literalType = typeof type === 'string' && !type.startsWith('/') && type !== '' ? type : isObject(type) ? type['const'] : undefined;
  if (literalType !== undefined && !isEventType(literalType))
    throw new WebhookMappingError('mapping.type must be one of identify, track, page, screen, group, alias (or a pointer)');
  // What every call of that type needs: without it no payload could ever be accepted.
  if (!('userId' in input) && !('anonymousId' in input))
    throw new WebhookMappingError('mapping needs userId or anonymousId (e.g. "userId": "/user/id"): every call carries one');
  const required = isEventType(literalType) ? (REQUIRED[literalType] ?? []).filter((field) => !(field in input)) : [];
  if (required[0] !== undefined) throw new WebhookMappingError(`mapping.${required[0]} is required for ${String(literalType)} calls`);
  return input as WebhookMapping;
}

export const sourceOf = (spec: string | { const: unknown }): Source =>
  typeof spec === 'string' ? (spec === '' || spec.startsWith('/') ? { pointer: spec } : { const: spec }) : { const: spec.const };

/** RFC 6901: the value at `pointer` in `doc`, or undefined when any step is missing. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let at: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const step = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(at) && /^(0|[1-9][0-9]*)$/.test(step)) at = at[Number(step)];
    else if (isObject(at) && Object.prototype.hasOwnProperty.call(at, step)) at = at[step];
    else return undefined;
  }
  return at;
}

/** Fields a call cannot do without, per type (one of userId / anonymousId is checked as a pair). */
const REQUIRED: Record<string, string[]> = { track: ['event'], group: ['groupId'], alias: ['previousId'] };

export type MappedResult = { ok: true; message: Record<string, unknown> } | { ok: false; reason: string };

/**
 * The Segment message a payload maps to. A required field whose mapped pointer finds nothing is
 * named with its pointer. Without a mapped messageId, the id derives from the source and the
 * payload, so a webhook delivered twice (senders retry) has no second effect.
 */
export function mapPayload(mapping: WebhookMapping, payload: unknown, sourceKey: string, rawBody: Buffer): MappedResult {
  const message: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  for (const [target, spec] of Object.entries(mapping)) {
    const source = sourceOf(spec);
    const value = 'pointer' in source ? resolvePointer(payload, source.pointer) : source.const;
    if ('pointer' in source) from[target] = source.pointer;
    if (value === undefined || value === null) continue;
    if (OBJECT_FIELDS.has(target) && !isObject(value))
      return {
        ok: false,
        reason: `${target} must be an object: ${'pointer' in source ? `the mapping's pointer ${source.pointer || '""'} found` : 'the mapping sets'} ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}`,
      };
    const nested = NESTED.exec(target);
    if (nested) {
      const [, parent, key] = nested as unknown as [string, string, string];
      const container = isObject(message[parent]) ? (message[parent] as Record<string, unknown>) : {};
      message[parent] = { ...container, [key]: value };
    } else if (isObject(message[target]) && isObject(value)) {
      message[target] = { ...value, ...(message[target] as Record<string, unknown>) };
    } else {
      message[target] = value;
    }
  }
  const missing = (field: string) =>
    `${field} is missing: ${from[field] ? `the mapping's pointer ${from[field]} found nothing in the payload` : 'the mapping does not set it'}`;
  const type = message['type'];
  if (!isEventType(type))
    return {
      ok: false,
      reason:
        type === undefined
          ? missing('type')
          : `type must be one of identify, track, page, screen, group, alias: ${from['type'] ? `the mapping's pointer ${from['type']} found` : 'the mapping sets'} ${JSON.stringify(type)?.slice(0, 40)}`,
    };
  if (message['userId'] === undefined && message['anonymousId'] === undefined)
    return {
      ok: false,
      reason: `${missing(from['userId'] || !from['anonymousId'] ? 'userId' : 'anonymousId')} (userId or anonymousId is required)`,
    };
  for (const field of REQUIRED[type] ?? []) if (message[field] === undefined) return { ok: false, reason: missing(field) };
  if (message['messageId'] === undefined)
    message['messageId'] = `webhook-${createHash('sha256').update(sourceKey).update('\n').update(rawBody).digest('hex').slice(0, 32)}`;
  else message['messageId'] = String(message['messageId']);
  for (const id of ['userId', 'anonymousId', 'groupId', 'previousId'] as const)
    if (typeof message[id] === 'number') message[id] = String(message[id]);
  return { ok: true, message };
}
