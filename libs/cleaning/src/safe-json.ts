/** Limits on user-supplied objects (traits, properties, context). */
export const OBJECT_LIMITS = { maxDepth: 10, maxKeys: 1_000 } as const;

export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

export class UnsafeInputError extends Error {
  constructor(
    readonly code: 'too_deep' | 'too_many_keys',
    message: string,
  ) {
    super(message);
  }
}

const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Makes a key safe to store in MongoDB: no `.` (path separator), no leading `$` (operator),
 * never `__proto__`. The mapping is fixed so the same key always lands in the same field.
 */
export function safeKey(key: string): string {
  // Most keys need nothing: one scan instead of a regex replace and three comparisons per key.
  if (key !== '' && key.charCodeAt(0) !== 0x24 /* $ */ && !key.includes('.') && !RESERVED_KEYS.has(key)) return key;
  let out = key.replace(/\./g, '_');
  if (out.startsWith('$')) out = `_${out.slice(1)}`;
  if (out === '__proto__' || out === 'constructor' || out === 'prototype') out = `_${out}`;
  return out === '' ? '_' : out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Copies a JSON value with safe keys, within the depth and key-count limits.
 * Nested arrays become arrays of their items' sanitized values (MongoDB subset: no nested arrays
 * are queried, but they are stored as given).
 */
export function sanitize(value: unknown, depth = 0, budget = { keys: OBJECT_LIMITS.maxKeys }): JsonValue {
  if (depth > OBJECT_LIMITS.maxDepth) throw new UnsafeInputError('too_deep', `nested deeper than ${OBJECT_LIMITS.maxDepth} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1, budget));
  if (isPlainObject(value)) {
    // A plain object is safe to fill directly: safeKey never answers __proto__ (no prototype setter is reached).
    const out: JsonObject = {};
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      const v = value[k];
      if (v === undefined) continue;
      if (--budget.keys < 0) throw new UnsafeInputError('too_many_keys', `more than ${OBJECT_LIMITS.maxKeys} keys`);
      out[safeKey(k)] = sanitize(v, depth + 1, budget);
    }
    return out;
  }
  return null;
}

export const sanitizeObject = (value: unknown): JsonObject => {
  const out = sanitize(isPlainObject(value) ? value : {});
  return out as JsonObject;
};
