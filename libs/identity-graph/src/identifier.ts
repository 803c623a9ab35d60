import { createHash } from 'node:crypto';
import { cleanPhone } from '@cdp/cleaning';
import { IdentifierTypes } from '@cdp/contracts';

/** One identifier of a person: a type (user_id, email, ... or a custom one) and its value. */
export interface Identifier {
  type: string;
  value: string;
}

/**
 * Identifier types become field names (per-type counts) and the `type:value` syntax of the
 * API, so they are restricted to a safe, lower-case alphabet without '.', '$' or ':'.
 */
export const IDENTIFIER_TYPE = /^[a-z0-9_-]{1,64}$/;

/** Longer values are not identifiers (and would bloat the unique index). */
export const MAX_IDENTIFIER_VALUE_LENGTH = 512;

export const identifierKey = (id: Identifier): string => `${id.type}:${id.value}`;

export const sameIdentifier = (a: Identifier, b: Identifier): boolean => a.type === b.type && a.value === b.value;

/** Canonical form of a value: trimmed; emails lower-cased and composed (the normalizer already does; this keeps lookups consistent). */
export function normalizeIdentifierValue(type: string, value: string): string {
  const v = value.trim();
  return type === 'email' ? v.toLowerCase().normalize('NFC') : v;
}

export type ParsedIdentifier = { ok: true; identifier: Identifier } | { ok: false; message: string };

/** Parses the API's `type:value` form (split at the first ':', so values may contain ':'); a phone in E.164 when valid. */
export function parseIdentifier(text: string): ParsedIdentifier {
  const at = text.indexOf(':');
  if (at <= 0) return { ok: false, message: 'expected <type>:<value>, e.g. email:jane@example.com' };
  const type = text.slice(0, at).trim().toLowerCase();
  const given = normalizeIdentifierValue(type, text.slice(at + 1));
  // A phone as the normalizer stores it: `+49 170 1234567` is `+491701234567` (one without a
  // country code read as a US one; events' phones are E.164 already, so only lookups need this).
  const value = type === IdentifierTypes.phone ? cleanPhone(given).value : given;
  if (!IDENTIFIER_TYPE.test(type)) return { ok: false, message: 'identifier type may only contain a-z, 0-9, "_" and "-" (at most 64)' };
  if (value.length === 0) return { ok: false, message: 'identifier value is empty' };
  if (value.length > MAX_IDENTIFIER_VALUE_LENGTH)
    return { ok: false, message: `identifier value is longer than ${MAX_IDENTIFIER_VALUE_LENGTH}` };
  return { ok: true, identifier: { type, value } };
}

const hex24 = (parts: string[]): string => createHash('sha256').update(JSON.stringify(parts), 'utf8').digest('hex').slice(0, 24);

/**
 * The id of the profile an identifier creates. Derived, not random, so a redelivered event and
 * two instances racing on the same new person arrive at the same profile.
 */
export const profileIdFor = (workspaceId: string, id: Identifier): string => `p_${hex24([workspaceId, id.type, id.value])}`;

/**
 * The profile an identifier starts once it was removed from its person: not `profileIdFor`, which
 * may be the very profile it was removed from (the one it created).
 */
export const profileIdAfterRemoval = (workspaceId: string, id: Identifier, removalId: string): string =>
  `p_${hex24([workspaceId, id.type, id.value, removalId])}`;

/** The same merge always has the same id, whoever performs it and however often. */
export const mergeIdFor = (workspaceId: string, fromProfileId: string, intoProfileId: string): string =>
  `m_${hex24([workspaceId, fromProfileId, intoProfileId])}`;

/** A short digest of an identifier, so a profile can remember which ones it counted without holding the values. */
export const identifierDigest = (id: Identifier): string => hex24([id.type, id.value]);
