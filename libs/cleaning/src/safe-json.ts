/**
 * Limits on user-supplied objects (traits, properties, context). `maxBytes` is on each object's
 * JSON in UTF-8, with safe keys: twice the collector's 32 KB per-event limit (MAX_EVENT_BYTES), so
 * an event it accepted is not refused here once it added context.ip, context.userAgent (a header
 * of up to 16 KB) and context.library; events produced straight to Kafka stop here, not at the
 * broker or at MongoDB's 16 MB per document.
 */
export const OBJECT_LIMITS = { maxDepth: 10, maxKeys: 1_000, maxBytes: 64 * 1024 } as const;

export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

export class UnsafeInputError extends Error {
  constructor(
    readonly code: 'too_deep' | 'too_many_keys' | 'too_large',
    message: string,
  ) {
    super(message);
  }
}

const tooDeep = (field: string) => new UnsafeInputError('too_deep', `${field} is nested deeper than ${OBJECT_LIMITS.maxDepth} levels`);
const tooManyKeys = (field: string) =>
  new UnsafeInputError('too_many_keys', `${field} has more than ${OBJECT_LIMITS.maxKeys} keys (nested ones included)`);

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
 * What sanitize() may still copy (`keys`) and an upper bound on the UTF-8 size of the JSON of what
 * it copied (`bytes`), counted on the way so that most objects need no extra serialization to be
 * measured.
 */
export interface SanitizeBudget {
  keys: number;
  bytes: number;
}

export const sanitizeBudget = (): SanitizeBudget => ({ keys: OBJECT_LIMITS.maxKeys, bytes: 0 });

/**
 * At most the UTF-8 bytes of a string's JSON: a UTF-16 unit takes at most 6 (`\u001f`, a lone
 * surrogate), and the quotes add 2.
 */
const stringBytesAtMost = (s: string): number => 6 * s.length + 2;

/** At most the bytes of a finite number's JSON (`-0.0000012345678901234567`), `true`, `false` or `null`. */
const SCALAR_BYTES_AT_MOST = 25;

/**
 * Copies a JSON value with safe keys, within the depth and key-count limits.
 * Nested arrays become arrays of their items' sanitized values (MongoDB subset: no nested arrays
 * are queried, but they are stored as given).
 */
export function sanitize(value: unknown, depth = 0, budget: SanitizeBudget = sanitizeBudget()): JsonValue {
  if (depth > OBJECT_LIMITS.maxDepth) throw tooDeep('value');
  if (typeof value === 'string') {
    budget.bytes += stringBytesAtMost(value);
    return value;
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'number') {
    budget.bytes += SCALAR_BYTES_AT_MOST;
    return typeof value !== 'number' || Number.isFinite(value) ? value : null;
  }
  if (Array.isArray(value)) {
    // The brackets, and a comma per item.
    budget.bytes += 2 + value.length;
    return value.map((v) => sanitize(v, depth + 1, budget));
  }
  if (isPlainObject(value)) {
    budget.bytes += 2;
    // A plain object is safe to fill directly: safeKey never answers __proto__ (no prototype setter is reached).
    const out: JsonObject = {};
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      const v = value[k];
      if (v === undefined) continue;
      if (--budget.keys < 0) throw tooManyKeys('value');
      const key = safeKey(k);
      // The key, its colon and a comma.
      budget.bytes += stringBytesAtMost(key) + 2;
      out[key] = sanitize(v, depth + 1, budget);
    }
    return out;
  }
  // undefined, a function, a bigint or a symbol (none of them JSON): null.
  budget.bytes += SCALAR_BYTES_AT_MOST;
  return null;
}

/**
 * sanitize() for a user-supplied object (anything else is `{}`), within OBJECT_LIMITS.maxBytes
 * too: `field` names it in the error (`properties is 70000 bytes ...`, `traits has more than
 * 1000 keys ...`). Only an object whose bound is over the limit is serialized to be measured.
 */
export const sanitizeObject = (value: unknown, field = 'object'): JsonObject => {
  const budget = sanitizeBudget();
  let out: JsonObject;
  try {
    out = sanitize(isPlainObject(value) ? value : {}, 0, budget) as JsonObject;
  } catch (e) {
    if (!(e instanceof UnsafeInputError)) throw e;
    throw e.code === 'too_deep' ? tooDeep(field) : tooManyKeys(field);
  }
  if (budget.bytes > OBJECT_LIMITS.maxBytes) {
    const bytes = Buffer.byteLength(JSON.stringify(out));
    if (bytes > OBJECT_LIMITS.maxBytes)
      throw new UnsafeInputError('too_large', `${field} is ${bytes} bytes as JSON, over the ${OBJECT_LIMITS.maxBytes}-byte limit`);
  }
  return out;
};

/**
 * The depth or key-count error sanitizeObject() would throw for `value`, found without copying it:
 * the collector answers it as a 400 rather than accept an event the normalizer must dead-letter.
 * The same walk in the same order, so the same error (sizes are the collector's own 32 KB check).
 */
export function objectLimitError(value: unknown, field: string): UnsafeInputError | null {
  let keys = OBJECT_LIMITS.maxKeys;
  const walk = (v: unknown, depth: number): UnsafeInputError | null => {
    if (depth > OBJECT_LIMITS.maxDepth) return tooDeep(field);
    if (Array.isArray(v)) {
      for (const item of v) {
        const error = walk(item, depth + 1);
        if (error) return error;
      }
    } else if (isPlainObject(v)) {
      for (const k in v) {
        if (!Object.hasOwn(v, k) || v[k] === undefined) continue;
        if (--keys < 0) return tooManyKeys(field);
        const error = walk(v[k], depth + 1);
        if (error) return error;
      }
    }
    return null;
  };
  return walk(isPlainObject(value) ? value : {}, 0);
}
