import { IdentifierTypes } from '@cdp/contracts';
import { identifierKey } from '@cdp/profile-model';

export interface NormalizedIdentifier {
  type: string;
  value: string;
  idKey: string;
}

/**
 * The identifiers of a regulation as events carry them (values trimmed, emails lower-cased, as the
 * normalizer stores them), without duplicates and without values that are empty once trimmed.
 */
export function normalizeRegulationIdentifiers(identifiers: readonly { type: string; value: string }[]): NormalizedIdentifier[] {
  const out = new Map<string, NormalizedIdentifier>();
  for (const { type, value: raw } of identifiers) {
    const trimmed = raw.trim();
    const value = type === IdentifierTypes.email ? trimmed.toLowerCase() : trimmed;
    if (value === '') continue;
    const idKey = identifierKey(type, value);
    if (!out.has(idKey)) out.set(idKey, { type, value, idKey });
  }
  return [...out.values()];
}
