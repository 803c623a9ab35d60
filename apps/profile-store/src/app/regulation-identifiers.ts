import { IdentifierTypes } from '@cdp/contracts';
import { cleanPhone } from '@cdp/cleaning';
import { identifierKey } from '@cdp/profile-model';

export interface NormalizedIdentifier {
  type: string;
  value: string;
  idKey: string;
}

/**
 * The identifiers of a regulation as events carry them (values trimmed, emails lower-cased, valid
 * phones in E.164, as the normalizer stores them), without duplicates and without values that are
 * empty once trimmed. A phone without a country code is read as the normalizer's default region
 * (US) reads it; a workspace with another region should send phones with their country code.
 */
export function normalizeRegulationIdentifiers(identifiers: readonly { type: string; value: string }[]): NormalizedIdentifier[] {
  const out = new Map<string, NormalizedIdentifier>();
  for (const { type, value: raw } of identifiers) {
    const trimmed = raw.trim();
    // Only a valid phone is an identifier (E.164); any other value can match nothing, so it is kept as given.
    const value =
      type === IdentifierTypes.email ? trimmed.toLowerCase() : type === IdentifierTypes.phone ? cleanPhone(trimmed).value : trimmed;
    if (value === '') continue;
    const idKey = identifierKey(type, value);
    if (!out.has(idKey)) out.set(idKey, { type, value, idKey });
  }
  return [...out.values()];
}
