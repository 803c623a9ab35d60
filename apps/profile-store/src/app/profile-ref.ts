import { cleanPhone } from '@cdp/cleaning';
import { IdentifierTypes } from '@cdp/contracts';
import { identifierKey } from '@cdp/profile-model';

/** What a `/v1/profiles/:id` path names: a profile id, or an identifier `type:value`. */
export type ProfileRef = { kind: 'profile'; profileId: string } | { kind: 'identifier'; type: string; value: string; idKey: string };

/**
 * An identifier type as the identity-resolver names one (IDENTIFIER_TYPE of @cdp/identity-graph):
 * letters, digits, '_' and '-' (user_id, email, a custom externalIds type like crm-id). Read
 * case-insensitively, as `GET /v1/identities/{type:value}` reads it, so `Email:x` is `email:x`.
 */
const IDENTIFIER = /^([a-z0-9_-]{1,64}):(.*)$/is;

/**
 * Parses the id of a profile route. Everything after the first ':' is the value, so values may
 * contain ':' and '@'. Emails are compared lower-cased and phones in E.164, as the normalizer stores them.
 */
export function parseProfileRef(raw: string): ProfileRef | null {
  const id = raw.trim();
  if (id === '' || id.length > 1024) return null;
  const match = IDENTIFIER.exec(id);
  if (!match) return { kind: 'profile', profileId: id };
  const type = (match[1] as string).toLowerCase();
  let value = (match[2] as string).trim();
  if (type === IdentifierTypes.email) value = value.toLowerCase().normalize('NFC');
  // A valid phone as the normalizer stores it (E.164; without a country code read as a US one).
  if (type === IdentifierTypes.phone) value = cleanPhone(value).value;
  if (value === '') return null;
  return { kind: 'identifier', type, value, idKey: identifierKey(type, value) };
}

/**
 * The 404 message for a path nothing answers to. A phone written without a country code is read
 * as a US number here, while the normalizer stored it in the workspace's default region (which
 * the profile-store does not know): say so, instead of a bare "not found".
 */
export function notFoundMessage(ref: ProfileRef, raw: string): string {
  if (ref.kind === 'profile')
    return 'profile not found (read as a profile id; to look up by an identifier write type:value, e.g. user_id:42)';
  const national = ref.type === IdentifierTypes.phone && !/^\s*(\+|00)/.test(raw.slice(raw.indexOf(':') + 1));
  return national
    ? `no profile has identifier ${ref.type}:… (read without a country code as a US number; write it with its country code, e.g. phone:+33611223344)`
    : `no profile has identifier ${ref.type}:…`;
}
