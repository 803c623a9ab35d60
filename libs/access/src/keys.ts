import { createHash, randomBytes } from 'node:crypto';

/** What an API key may do. `admin` implies every other scope of its workspace. */
export const SCOPES = ['read:profiles', 'write:profiles', 'read:segments', 'write:segments', 'read:identities', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export type KeyKind = 'write' | 'api';

/** Keys are stored only as hashes; a key is high-entropy, so a fast hash is enough. */
export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** A new random key with a readable prefix that tells its kind. */
export const newKey = (kind: KeyKind): string => `${kind === 'write' ? 'wk' : 'ak'}_${randomBytes(24).toString('base64url')}`;

/**
 * Why `key` was refused where a key of `wanted` kind goes: a generated key's prefix names its kind,
 * so a write key given as an API key (or the reverse) is told so instead of "not valid".
 */
export function keyRefusal(key: string, wanted: KeyKind): string {
  if (wanted === 'write' && key.startsWith('ak_'))
    return 'this is an API key (ak_...): send a write key (wk_...) here, as the Basic auth user name or "writeKey"';
  if (wanted === 'api' && key.startsWith('wk_')) return 'this is a write key (wk_...): send an API key (ak_...) here, as Bearer';
  return wanted === 'write' ? 'write key is not valid' : 'API key is not valid';
}

export const grants = (held: readonly string[], wanted: Scope): boolean => held.includes('admin') || held.includes(wanted);

/** The write key of a Segment request: Basic auth user name (password empty), or null. */
export function basicAuthUser(header: string | undefined): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const user = decoded.split(':', 1)[0];
  return user ? user : null;
}

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** The public id of a key: a short prefix of its hash, enough to name it, useless to use it. */
export const KEY_ID_LENGTH = 12;
export const keyIdOf = (keyHash: string): string => keyHash.slice(0, KEY_ID_LENGTH);

export const isScope = (value: unknown): value is Scope => typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
