import { IdentifierTypes, type NormalizedEvent } from '@cdp/contracts';
import {
  blockedValueTest,
  extractIdentifiers,
  identifierKey,
  IDENTIFIER_TYPE,
  MAX_IDENTIFIER_VALUE_LENGTH,
  normalizeIdentifierValue,
  type Identifier,
  type IdentityRules,
} from '@cdp/identity-graph';

/**
 * `alias` calls (Segment spec): `previousId` is the identity the user had before `userId`, either
 * an anonymous id or an earlier user id. Both readings are looked up; the ones the graph knows
 * are used, and an unknown previousId is taken as an anonymous id (the usual case: a visitor
 * who signs up).
 */
export function previousIdCandidates(event: NormalizedEvent, rules: IdentityRules): Identifier[] {
  if (event.type !== 'alias' || typeof event.previousId !== 'string') return [];
  const blocked = blockedValueTest(rules);
  return [IdentifierTypes.anonymousId, IdentifierTypes.userId].flatMap((type) => {
    const value = normalizeIdentifierValue(type, event.previousId as string);
    const ok = IDENTIFIER_TYPE.test(type) && value.length > 0 && value.length <= MAX_IDENTIFIER_VALUE_LENGTH && !blocked(value);
    return ok ? [{ type, value }] : [];
  });
}

/** The previousId readings to match on: the known ones, else the anonymous-id reading. */
export function previousIdentifiers(candidates: readonly Identifier[], known: ReadonlySet<string>): Identifier[] {
  const matched = candidates.filter((id) => known.has(identifierKey(id)));
  if (matched.length > 0) return matched;
  return candidates.filter((id) => id.type === IdentifierTypes.anonymousId);
}

/** Every identifier an event may be resolved on (both previousId readings): what independent groups must not share. */
export function eventIdentifiers(event: NormalizedEvent, rules: IdentityRules): Identifier[] {
  return dedupeIdentifiers([...extractIdentifiers(event, rules), ...previousIdCandidates(event, rules)]);
}

export function dedupeIdentifiers(ids: readonly Identifier[]): Identifier[] {
  return [...new Map(ids.map((id) => [identifierKey(id), id])).values()];
}
