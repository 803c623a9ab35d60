import { identifierHash, IdentifierTypes, type IdentifierRef } from '@cdp/contracts';

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Identifier types as the identity-resolver and the regulation API accept them. */
const IDENTIFIER_TYPE = /^[a-z0-9_-]{1,64}$/;
/** More external ids than this are not looked at (bounds the hashing per event; the resolver keeps far fewer). */
const MAX_EXTERNAL_IDS = 50;

/** Identifier values are strings; numbers (a phone sent as a number) count as their text. */
const asValue = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);

/**
 * The fields of an event identifiers come from: a cleaned event's, or a raw Segment message's
 * when it could not be cleaned (best effort: it may still be dead-lettered, with its bytes).
 */
export interface IdentifierSource {
  type?: unknown;
  userId?: unknown;
  anonymousId?: unknown;
  previousId?: unknown;
  traits?: unknown;
  context?: unknown;
}

/**
 * Every identifier an event may be known by, as the identity-resolver reads them (and so as the
 * profile-store's regulations name them): userId, anonymousId, traits.email, traits.phone,
 * context.device.id and .advertisingId, context.externalIds [{id, type}], and for an alias its
 * previousId read as anonymous id and as user id. Values trimmed, emails lower-cased, as the
 * regulation API stores them. Not filtered further: an extra candidate can only fail to match.
 * A group call's traits are the group's (a company's billing email): they identify nobody.
 */
export function eventIdentifiers(source: IdentifierSource): IdentifierRef[] {
  const traits = source.type !== 'group' && isObject(source.traits) ? source.traits : {};
  const context = isObject(source.context) ? source.context : {};
  const contextTraits = isObject(context['traits']) ? context['traits'] : {};
  const device = isObject(context['device']) ? context['device'] : {};
  const candidates: { type: unknown; value: unknown }[] = [
    { type: IdentifierTypes.userId, value: source.userId },
    { type: IdentifierTypes.anonymousId, value: source.anonymousId },
    { type: IdentifierTypes.email, value: traits['email'] },
    { type: IdentifierTypes.phone, value: traits['phone'] },
    // A cleaned event has these in traits already; a raw message may carry them here only.
    { type: IdentifierTypes.email, value: contextTraits['email'] },
    { type: IdentifierTypes.phone, value: contextTraits['phone'] },
    { type: IdentifierTypes.deviceId, value: device['id'] },
    { type: IdentifierTypes.advertisingId, value: device['advertisingId'] },
  ];
  if (source.type === 'alias') {
    candidates.push(
      { type: IdentifierTypes.anonymousId, value: source.previousId },
      { type: IdentifierTypes.userId, value: source.previousId },
    );
  }
  const externalIds = context['externalIds'];
  if (Array.isArray(externalIds)) {
    for (const ext of externalIds.slice(0, MAX_EXTERNAL_IDS)) {
      if (isObject(ext))
        candidates.push({ type: typeof ext['type'] === 'string' ? ext['type'].trim().toLowerCase() : null, value: ext['id'] });
    }
  }
  const out = new Map<string, IdentifierRef>();
  for (const c of candidates) {
    const raw = asValue(c.value);
    if (typeof c.type !== 'string' || !IDENTIFIER_TYPE.test(c.type) || raw === null) continue;
    const trimmed = raw.trim();
    const value = c.type === IdentifierTypes.email ? trimmed.toLowerCase() : trimmed;
    if (value !== '') out.set(`${c.type}:${value}`, { type: c.type, value });
  }
  return [...out.values()];
}

/**
 * A bounded memo of identifierHash: a person's events come in runs (one anonymous id, then a user
 * id, over many events), and a SHA-256 per identifier per event is a visible share of the
 * normalizer's CPU. Pure function, so a hit is the same answer; cleared whole when full.
 */
const hashMemo = new Map<string, string>();
const HASH_MEMO_SIZE = 20_000;

function memoHash(workspaceId: string, type: string, value: string): string {
  // Unambiguous: the workspace id by its length, then the type (which has no newline), then the value.
  const key = `${workspaceId.length}:${workspaceId}${type}\n${value}`;
  let hash = hashMemo.get(key);
  if (hash === undefined) {
    hash = identifierHash(workspaceId, type, value);
    if (hashMemo.size >= HASH_MEMO_SIZE) hashMemo.clear();
    hashMemo.set(key, hash);
  }
  return hash;
}

/** The hashes the suppression topic would name this event's identifiers by. */
export const eventIdentifierHashes = (workspaceId: string, source: IdentifierSource): string[] =>
  eventIdentifiers(source).map((i) => memoHash(workspaceId, i.type, i.value));

/** Parses a JSON object field of a cleaned event (always an object there; anything else counts as empty). */
export function parseObject(text: string): JsonObject {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/**
 * Reads a suppression record's key `<workspaceId>:<identifierHash>` (the hash is hex, so the last
 * ':' separates them, whatever the workspace id holds). Null when it is not of that form.
 */
export function parseSuppressionKey(key: string): { workspaceId: string; identifierHash: string } | null {
  const at = key.lastIndexOf(':');
  if (at <= 0) return null;
  const hash = key.slice(at + 1);
  return /^[0-9a-f]{64}$/.test(hash) ? { workspaceId: key.slice(0, at), identifierHash: hash } : null;
}
