import { IdentifierTypes, type NormalizedEvent } from '@cdp/contracts';
import { IDENTIFIER_TYPE, MAX_IDENTIFIER_VALUE_LENGTH, normalizeIdentifierValue, type Identifier } from './identifier';
import { blockedValueTest, DEFAULT_IDENTITY_RULES, type IdentityRules } from './rules';

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The normalizer guarantees JSON objects; anything else counts as empty rather than failing the event. */
function parseObject(text: string): JsonObject {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Identifier values are strings; numbers (a phone sent as a number) are accepted as their text. */
const asValue = (v: unknown): string | null => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
};

/**
 * The identifiers an event carries: userId, anonymousId, traits.email, traits.phone,
 * context.device.id and .advertisingId, and context.externalIds [{id, type}]. Blocked,
 * empty, over-long and duplicate values are dropped; the result is sorted (type, value).
 * A group call's traits are the group's (a company's billing email is shared by its people):
 * they identify nobody.
 */
export function extractIdentifiers(event: NormalizedEvent, rules: IdentityRules = DEFAULT_IDENTITY_RULES): Identifier[] {
  const traits = event.type === 'group' ? {} : parseObject(event.traits);
  const context = parseObject(event.context);
  const device = isObject(context['device']) ? context['device'] : {};
  const candidates: { type: unknown; value: unknown }[] = [
    { type: IdentifierTypes.userId, value: event.userId },
    { type: IdentifierTypes.anonymousId, value: event.anonymousId },
    // The normalizer moves any other email aside; a number is no address even where it did not.
    { type: IdentifierTypes.email, value: typeof traits['email'] === 'string' ? traits['email'] : null },
    { type: IdentifierTypes.phone, value: traits['phone'] },
    { type: IdentifierTypes.deviceId, value: device['id'] },
    { type: IdentifierTypes.advertisingId, value: device['advertisingId'] },
  ];
  const externalIds = context['externalIds'];
  if (Array.isArray(externalIds)) {
    for (const ext of externalIds) {
      if (isObject(ext))
        candidates.push({ type: typeof ext['type'] === 'string' ? ext['type'].trim().toLowerCase() : null, value: ext['id'] });
    }
  }

  const blocked = blockedValueTest(rules);
  const seen = new Map<string, Identifier>();
  for (const c of candidates) {
    const raw = asValue(c.value);
    if (typeof c.type !== 'string' || !IDENTIFIER_TYPE.test(c.type) || raw === null) continue;
    const value = normalizeIdentifierValue(c.type, raw);
    if (value.length === 0 || value.length > MAX_IDENTIFIER_VALUE_LENGTH || blocked(value)) continue;
    seen.set(JSON.stringify([c.type, value]), { type: c.type, value });
  }
  return [...seen.values()].sort(compareIdentifiers);
}

export const compareIdentifiers = (a: Identifier, b: Identifier): number =>
  a.type < b.type ? -1 : a.type > b.type ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
